{{/* Names are <release>-<component>, cut to the 63 characters a DNS label allows. */}}
{{- define "demo.name" -}}
{{- printf "%s-%s" .root.Release.Name .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The labels a Service selects on: stable for the life of a release. */}}
{{- define "demo.selectorLabels" -}}
app.kubernetes.io/name: {{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "demo.labels" -}}
{{ include "demo.selectorLabels" . }}
app.kubernetes.io/part-of: tracing-demo
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{/* Pod-level hardening shared by every workload: no API token (nothing here
talks to the Kubernetes API), the runtime's default seccomp profile. */}}
{{- define "demo.podSecurity" -}}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  runAsNonRoot: true
  runAsUser: {{ .uid }}
  runAsGroup: {{ .uid }}
  seccompProfile:
    type: RuntimeDefault
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "demo.containerSecurity" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  runAsNonRoot: true
  capabilities:
    drop: [ALL]
{{- end -}}

{{/* The Collector's endpoints, as the services and the routing tier see them. */}}
{{- define "demo.collectorOtlpHttp" -}}
http://{{ include "demo.name" (dict "root" . "component" "collector") }}:{{ .Values.ports.otlpHttp }}
{{- end -}}

{{- define "demo.samplingHeadless" -}}
{{ include "demo.name" (dict "root" . "component" "collector-sampling") }}.{{ .Release.Namespace }}.svc.{{ .Values.clusterDomain }}
{{- end -}}

{{/* One NetworkPolicy rule: .peers, components of this release whose pods may
connect (`from:`) or be connected to (`to:`, after .direction), none meaning
any address; .ports, the TCP ports. */}}
{{- define "demo.policyRule" -}}
- {{ if .peers -}}
  {{ .direction }}:
    {{- range $component := .peers }}
    - podSelector:
        matchLabels:
          {{- include "demo.selectorLabels" (dict "root" $.root "component" $component) | nindent 10 }}
    {{- end }}
  {{ end -}}
  ports:
    {{- range $port := .ports }}
    - {port: {{ $port }}, protocol: TCP}
    {{- end }}
{{- end -}}

package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestHealthIsNotTraced is docs/contract.md, "Logs": no request for the path
// /health is traced, whatever its method, query or answer (otelgin's filter);
// the answer is the same but for what a server span would supply. Other
// spellings of the path are 404s, traced as before.
func TestHealthIsNotTraced(t *testing.T) {
	tests := []struct {
		method, target string
		header         http.Header
		wantStatus     int
		wantTraced     bool
	}{
		{method: "GET", target: "/health", wantStatus: 200},
		{method: "HEAD", target: "/health", wantStatus: 200},
		{method: "GET", target: "/health?probe=kubelet", wantStatus: 200},
		{method: "GET", target: "/health", header: http.Header{"Traceparent": {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}, wantStatus: 200},
		{method: "GET", target: "/health", header: http.Header{hopCountHeader: {"99"}}, wantStatus: 508},
		{method: "POST", target: "/health", wantStatus: 405},
		{method: "GET", target: "/health/", wantStatus: 404, wantTraced: true},
		{method: "GET", target: "/%68ealth", wantStatus: 404}, // compared decoded, as in service-c
		{method: "GET", target: "//health", wantStatus: 404, wantTraced: true},
		{method: "GET", target: "/health%3F", wantStatus: 404, wantTraced: true},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			svc := newTestService(t, testConfig(nil, nil))
			req := httptest.NewRequest(tt.method, tt.target, nil)
			for key, values := range tt.header {
				req.Header[key] = values
			}

			rec := svc.serve(req)

			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantTraced {
				svc.serverSpan(t)
				return
			}
			if tt.method != http.MethodHead {
				assertNotTraced(t, svc, decodeBody(t, rec), rec)
			}
			if tt.wantStatus == 200 && !strings.Contains(rec.Body.String(), `"status":"ok"`) && tt.method != http.MethodHead {
				t.Errorf("body %s, want status ok", rec.Body)
			}
		})
	}
}

// assertNotTraced checks a /health answer: no span at all, no traceresponse,
// the all-zero otel_trace_id, and a log line (if any) without span ids.
func assertNotTraced(t *testing.T, svc *testService, body map[string]any, rec *httptest.ResponseRecorder) {
	t.Helper()
	if started := svc.spans.Started(); len(started) != 0 {
		t.Errorf("%d spans started, want none", len(started))
	}
	if got := rec.Header().Values(traceresponseHeader); len(got) != 0 {
		t.Errorf("traceresponse %q, want none", got)
	}
	if body["service"] != "service-a" || body["trace_id"] != rec.Header().Get(xTraceIDHeader) {
		t.Errorf("body %v", body)
	}
	if want := strings.Repeat("0", 32); body["otel_trace_id"] != want {
		t.Errorf("otel_trace_id = %v, want %s", body["otel_trace_id"], want)
	}
	for _, line := range svc.linesWithMessage(t, "request completed") {
		if line["trace_id"] != "" || line["span_id"] != "" {
			t.Errorf("log line with span ids: %v", line)
		}
	}
}

// isHealthPath tells which requests of a test table are never traced: those
// whose decoded path is /health.
func isHealthPath(target string) bool {
	u, err := url.Parse(target)
	return err == nil && u.Path == healthRoute
}

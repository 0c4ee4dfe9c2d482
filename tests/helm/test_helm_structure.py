"""What the chart runs is what compose and the native mode run: the gateway
config rendered from the one nginx template, the Collector config generated
from the shared one, the same images; and every pod is hardened, sized from the
measured footprint, and reachable through a Service that selects it."""

from __future__ import annotations

import os
import re
import subprocess
from urllib.parse import urlsplit

import pytest
import yaml

from tests.static.test_compose_runtime import MEASURED_MIB, memory_bytes, seconds
from tools.native.nginx import MAIN_CONFIG, TEMPLATE, render_template
from tools.native.settings import BIN, PER_MODE_SERVICE_VARIABLES, REPO, Ports, read_dotenv, service_env
from tools.native.stack import SERVICES

from .chart import CHART, NAMESPACE, VALUE_SETS, ValueSet, find, manifests, name, of_kind, pod_templates, values

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SHARED_COLLECTOR_CONFIG = REPO / "observability" / "otel-collector.yaml"
SHARED_ROUTING_CONFIG = REPO / "observability" / "otel-collector-routing.yaml"
each_value_set = pytest.mark.parametrize("value_set", VALUE_SETS, ids=lambda v: v.name)

# The chart reads only files inside itself: files/ holds symbolic links to the
# shared files, which Helm follows when it loads or packages the chart.
LINKS = {
    "files/default.conf.template": TEMPLATE,
    "files/nginx.conf": MAIN_CONFIG,
    "files/otel-collector.yaml": SHARED_COLLECTOR_CONFIG,
    "files/otel-collector-routing.yaml": SHARED_ROUTING_CONFIG,
}

# Workload -> (compose service whose mem_limit and measured memory it shares).
FOOTPRINT = {
    "gateway": "gateway",
    "service-a": "service-a",
    "service-b": "service-b",
    "service-c": "service-c",
    "collector": "otel-collector",  # compose's routing Collector
    "collector-sampling": "otel-collector-sampler-1",
}


def _config_map_data(docs: list[dict], component: str, key: str) -> str:
    return find(docs, "ConfigMap", name(component))["data"][key]


def _service_port(docs: list[dict], component: str, port_name: str = "http") -> int:
    service = find(docs, "Service", name(component))
    return next(p["port"] for p in service["spec"]["ports"] if p["name"] == port_name)


def _containers(value_set: ValueSet):
    return [
        (workload, template, container)
        for workload, template in pod_templates(manifests(value_set))
        for container in template["spec"]["containers"]
    ]


# ---------------------------------------------------------------- same files

@pytest.mark.parametrize("link", sorted(LINKS))
def test_chart_files_are_links_to_the_shared_ones(link: str) -> None:
    """One copy in git: a file copied here could drift from the one compose runs."""
    assert (CHART / link).is_symlink() and (CHART / link).resolve() == LINKS[link].resolve(), link


@each_value_set
def test_gateway_config_is_what_native_renders_from_the_same_template(value_set: ValueSet) -> None:
    """tools/native/nginx.py's own render function, given the addresses of the
    Services in this render, produces exactly the chart's default.conf."""
    docs = manifests(value_set)
    chart_values = values(value_set)
    variables = {
        "GATEWAY_LISTEN": str(chart_values["ports"]["gateway"]),
        **{f"SERVICE_{s[-1].upper()}_ADDR": f"{name(s)}:{_service_port(docs, s)}"
           for s in ("service-a", "service-b", "service-c")},
        "GATEWAY_ACCESS_LOG": "/dev/stdout",
        "GATEWAY_ERROR_LOG": "/dev/stderr",
        "GATEWAY_RESOLVER": chart_values["gateway"]["resolver"],
        "GATEWAY_UPSTREAM_RESOLVE": "",
    }
    expected = render_template(TEMPLATE.read_text(), variables)
    assert _config_map_data(docs, "gateway", "default.conf") == expected


@each_value_set
def test_gateway_main_config_differs_only_in_worker_processes(value_set: ValueSet) -> None:
    docs = manifests(value_set)
    workers = values(value_set)["gateway"]["workerProcesses"]
    expected = MAIN_CONFIG.read_text().replace("\nworker_processes auto;\n", f"\nworker_processes {workers};\n", 1)
    assert expected != MAIN_CONFIG.read_text()
    assert _config_map_data(docs, "gateway", "nginx.conf") == expected


@each_value_set
@pytest.mark.parametrize("service", SERVICES)
def test_services_get_the_environment_the_native_runner_gives(value_set: ValueSet, service: str) -> None:
    """Every variable tools/native sets, with the same value, except where a
    process listens and finds its peers (the chart's own Service names), and
    whether POST /test is served."""
    expected = service_env(Ports.from_dotenv(read_dotenv()), service)
    template = find(manifests(value_set), "Deployment", name(service))["spec"]["template"]
    env = {e["name"]: e.get("value") for e in template["spec"]["containers"][0]["env"]}
    assert sorted(set(expected) - set(env)) == []
    # CONFORMANCE_ENDPOINT is off on a cluster (test_helm_network_policy.py).
    shared = sorted(set(expected) - PER_MODE_SERVICE_VARIABLES - {"CONFORMANCE_ENDPOINT"})
    assert {n: env[n] for n in shared} == {n: expected[n] for n in shared}


# ---------------------------------------------------------------- Collector tiers

# Tier -> the shared config it runs.
TIER_CONFIGS = {
    "collector": SHARED_ROUTING_CONFIG,
    "collector-sampling": SHARED_COLLECTOR_CONFIG,
}
each_tier = pytest.mark.parametrize("component", sorted(TIER_CONFIGS))


def _collector_env(docs: list[dict], component: str) -> dict[str, str]:
    template = find(docs, "Deployment", name(component))["spec"]["template"]
    return {e["name"]: e["value"] for e in template["spec"]["containers"][0]["env"]}


@each_value_set
def test_routing_tier_runs_the_shared_routing_config_unchanged(value_set: ValueSet) -> None:
    """Byte for byte: everything cluster-specific comes in through its variables."""
    rendered = _config_map_data(manifests(value_set), "collector", "config.yaml")
    assert rendered == SHARED_ROUTING_CONFIG.read_text()


@each_value_set
def test_sampling_tier_runs_the_shared_collector_config(value_set: ValueSet) -> None:
    """The shared config, changed only where the values say (the trace store's
    headers) and in one place a pod differs from a container: the export queue
    is in memory, drained at SIGTERM, since a deleted pod's disk is gone with
    it. The sampling policy's numbers are its variables (below)."""
    chart_values = values(value_set)
    expected = yaml.safe_load(SHARED_COLLECTOR_CONFIG.read_text())
    store = expected["exporters"]["otlp_http/trace-store"]
    if chart_values["traceStore"]["headers"]:
        store["headers"] = chart_values["traceStore"]["headers"]
    del store["sending_queue"]["storage"], expected["extensions"]["file_storage/queue"]
    expected["service"]["extensions"].remove("file_storage/queue")
    rendered = yaml.safe_load(_config_map_data(manifests(value_set), "collector-sampling", "config.yaml"))
    assert rendered == expected


# Variable of the shared config -> the key under collector.sampling that sets it.
SAMPLING_VARIABLES = {
    "SAMPLING_BASELINE_PERCENT": "baselinePercent",
    "SAMPLING_SLOW_THRESHOLD_MS": "slowThresholdMs",
    "SAMPLING_DECISION_WAIT": "decisionWait",
}


@each_value_set
@pytest.mark.parametrize("variable", SAMPLING_VARIABLES)
def test_sampling_policy_follows_the_values(value_set: ValueSet, variable: str) -> None:
    """The Collector applies a variable's default only when it is unset, so the
    chart always sets it, from values."""
    wanted = values(value_set)["collector"]["sampling"][SAMPLING_VARIABLES[variable]]
    env = _collector_env(manifests(value_set), "collector-sampling")
    assert env.get(variable) == str(wanted)


def test_a_value_set_changes_every_sampling_variable() -> None:
    """So the check above can tell a value from the chart's default."""
    default = values(next(v for v in VALUE_SETS if v.name == "default"))["collector"]["sampling"]
    changed = values(next(v for v in VALUE_SETS if v.name == "sampling-10"))["collector"]["sampling"]
    assert all(changed[key] != default[key] for key in SAMPLING_VARIABLES.values())


@each_value_set
@each_tier
def test_tier_config_passes_the_collectors_own_validation(value_set: ValueSet, component: str, tmp_path) -> None:
    """The native Collector is built from the same components at the same
    release as the contrib image (observability/collector-builder.yaml), so its
    `validate` parses this config, with the pod's variables, exactly as the pod
    will: an unknown key, in the config or in the routing tier's resolver
    variable, fails."""
    collector = BIN / "otelcol-demo"
    if not collector.exists():
        pytest.skip(f"{collector.relative_to(REPO)} is not built: `python3 -m tools.native build` builds it")
    docs = manifests(value_set)
    config = tmp_path / "config.yaml"
    config.write_text(_config_map_data(docs, component, "config.yaml"))
    env = {**os.environ, **_collector_env(docs, component)}
    result = subprocess.run([str(collector), "validate", f"--config={config}"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@each_value_set
@each_tier
def test_deployment_passes_exactly_what_the_collector_config_reads(value_set: ValueSet, component: str) -> None:
    docs = manifests(value_set)
    config = _config_map_data(docs, component, "config.yaml")
    env = _collector_env(docs, component)
    wanted = set(re.findall(r"\$\{env:([A-Z_]+)(?::-[^}]*)?\}", config))
    assert wanted == set(env), f"missing {sorted(wanted - set(env))}, unused {sorted(set(env) - wanted)}"


@each_value_set
@each_tier
def test_collectors_keep_nothing_on_disk(value_set: ValueSet, component: str) -> None:
    spec = find(manifests(value_set), "Deployment", name(component))["spec"]["template"]["spec"]
    assert {v["name"] for v in spec["volumes"]} == {"config"}
    assert [m["name"] for m in spec["containers"][0]["volumeMounts"]] == ["config"]


@each_value_set
def test_spans_are_routed_over_at_least_two_samplers(value_set: ValueSet) -> None:
    """The production shape: with one sampler the routing tier proves nothing."""
    assert find(manifests(value_set), "Deployment", name("collector-sampling"))["spec"]["replicas"] >= 2


# ---------------------------------------------------------------- routing tier

# Every key the load_balancing exporter accepts at 0.161.0 (the contrib image
# the chart runs and the native build): its Config struct and config.schema.yaml
# in opentelemetry-collector-contrib, exporter/loadbalancingexporter, v0.161.0.
# `validate` above checks the same when the native Collector is built; this
# table keeps the check when it is not.
LOADBALANCING_KEYS = {
    "": {"protocol", "resolver", "routing_key", "routing_attributes", "sending_queue", "timeout", "retry_on_failure"},
    "protocol": {"otlp"},
    "resolver": {"static", "dns", "k8s", "aws_cloud_map"},
    "resolver.static": {"hostnames"},
    "resolver.dns": {"hostname", "port", "interval", "timeout"},
    "resolver.k8s": {"service", "ports", "timeout", "return_hostnames"},
    "resolver.aws_cloud_map": {"namespace", "service_name", "health_status", "interval", "timeout", "port",
                               "owner_account"},
}
ROUTING_KEYS = {"service", "traceID", "metric", "resource", "streamID", "attributes"}


def _routing_exporter(value_set: ValueSet) -> dict:
    """The routing tier's exporter as the Collector sees it: the environment
    provider parses COLLECTOR_ROUTING_RESOLVER as YAML into `resolver`."""
    docs = manifests(value_set)
    config = yaml.safe_load(_config_map_data(docs, "collector", "config.yaml"))
    exporter = config["exporters"]["load_balancing"]
    assert exporter["resolver"] == "${env:COLLECTOR_ROUTING_RESOLVER}"
    exporter["resolver"] = yaml.safe_load(_collector_env(docs, "collector")["COLLECTOR_ROUTING_RESOLVER"])
    return exporter


@each_value_set
def test_routing_tier_uses_only_known_load_balancing_keys(value_set: ValueSet) -> None:
    exporter = _routing_exporter(value_set)
    for path, allowed in LOADBALANCING_KEYS.items():
        node = exporter
        for part in filter(None, path.split(".")):
            node = node.get(part, {})
        assert set(node) <= allowed, f"load_balancing.{path}: unknown keys {sorted(set(node) - allowed)}"
    assert exporter["routing_key"] in ROUTING_KEYS
    assert "endpoint" not in exporter["protocol"]["otlp"], "the exporter sets each backend's endpoint itself"


@each_value_set
def test_routing_tier_routes_by_trace_id_to_every_sampling_pod(value_set: ValueSet) -> None:
    """The DNS resolver's hostname is the headless Service of the sampling
    tier, so it resolves to one address per ready pod, at the pods' OTLP port."""
    docs = manifests(value_set)
    chart_values = values(value_set)
    exporter = _routing_exporter(value_set)
    assert exporter["routing_key"] == "traceID"
    sampling = find(docs, "Service", name("collector-sampling"))
    assert sampling["spec"].get("clusterIP") == "None", "the sampling Service must be headless"
    assert list(exporter["resolver"]) == ["dns"]
    dns = exporter["resolver"]["dns"]
    assert dns["hostname"] == f"{name('collector-sampling')}.{NAMESPACE}.svc.{chart_values['clusterDomain']}"
    assert int(dns["port"]) == _service_port(docs, "collector-sampling", "otlp-grpc")
    assert dns["interval"] == chart_values["collector"]["routing"]["resolverInterval"]


# ---------------------------------------------------------------- pods

@each_value_set
def test_pods_mount_no_service_account_token(value_set: ValueSet) -> None:
    for workload, template in pod_templates(manifests(value_set)):
        assert template["spec"].get("automountServiceAccountToken") is False, workload


@each_value_set
def test_every_container_is_hardened(value_set: ValueSet) -> None:
    for workload, template, container in _containers(value_set):
        pod = template["spec"].get("securityContext", {})
        context = container.get("securityContext", {})
        where = f"{workload}/{container['name']}"
        assert context.get("runAsNonRoot", pod.get("runAsNonRoot")) is True, where
        assert context.get("runAsUser", pod.get("runAsUser", 0)) != 0, where
        assert context.get("readOnlyRootFilesystem") is True, where
        assert context.get("allowPrivilegeEscalation") is False, where
        assert context.get("capabilities", {}).get("drop") == ["ALL"], where
        assert pod.get("seccompProfile", {}).get("type") == "RuntimeDefault", where


@each_value_set
def test_every_container_has_probes(value_set: ValueSet) -> None:
    for workload, _, container in _containers(value_set):
        ports = {p["name"] for p in container["ports"]}
        for probe in ("readinessProbe", "livenessProbe"):
            check = container.get(probe, {}).get("httpGet")
            assert check, f"{workload}: no HTTP {probe}"
            assert check["port"] in ports, f"{workload}: {probe} on an undeclared port {check['port']}"
        if workload.removeprefix(name("")) in ("gateway", "service-a", "service-b", "service-c"):
            assert container["readinessProbe"]["httpGet"]["path"] == "/health", workload


@each_value_set
def test_every_container_is_sized_from_the_measured_footprint(value_set: ValueSet) -> None:
    """Memory requested at least what the process was measured to use idle,
    limited as in docker-compose.yml; CPU requested, never limited (as in compose)."""
    seen = set()
    for workload, _, container in _containers(value_set):
        component = workload.removeprefix(name(""))
        compose_service = FOOTPRINT[component]
        resources = container["resources"]
        request_mib = memory_bytes(resources["requests"]["memory"].replace("Mi", "m")) / 1024**2
        limit = memory_bytes(resources["limits"]["memory"].replace("Mi", "m"))
        assert request_mib >= MEASURED_MIB[compose_service], f"{workload}: requests {request_mib} MiB"
        assert limit == memory_bytes(COMPOSE["services"][compose_service]["mem_limit"]), workload
        assert "cpu" in resources["requests"] and "cpu" not in resources["limits"], workload
        seen.add(component)
    assert seen == set(FOOTPRINT)


@each_value_set
def test_stop_grace_covers_composes_plus_the_prestop_pause(value_set: ValueSet) -> None:
    """Kubernetes counts the grace period from the start of preStop, so each
    pod gets compose's stop_grace_period on top of its preStop pause."""
    for workload, template, container in _containers(value_set):
        compose_service = FOOTPRINT[workload.removeprefix(name(""))]
        pause = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
        wanted = seconds(COMPOSE["services"][compose_service]["stop_grace_period"]) + pause
        assert template["spec"]["terminationGracePeriodSeconds"] >= wanted, workload


@each_value_set
def test_images_are_the_ones_compose_runs(value_set: ValueSet) -> None:
    chart_values = values(value_set)
    tag = chart_values["image"]["tag"] or yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    for workload, _, container in _containers(value_set):
        component = workload.removeprefix(name(""))
        compose_service = FOOTPRINT[component]
        if "build" in COMPOSE["services"][compose_service]:
            assert COMPOSE["services"][compose_service]["build"] == f"./{component}"
            assert container["image"] == f"{chart_values['image']['registry']}/{component}:{tag}"
        else:
            # docker.io/library/nginx is what compose's short name `nginx` means.
            short = container["image"].removeprefix("docker.io/").removeprefix("library/")
            assert short == COMPOSE["services"][compose_service]["image"], workload


@pytest.mark.parametrize("value_set", [v for v in VALUE_SETS if v.name == "scaled-out"], ids=lambda v: v.name)
def test_replicas_follow_the_values(value_set: ValueSet) -> None:
    chart_values = values(value_set)
    docs = manifests(value_set)
    wanted = {
        "gateway": chart_values["gateway"]["replicas"],
        **{s: chart_values["services"][s]["replicas"] for s in ("service-a", "service-b", "service-c")},
        "collector": chart_values["collector"]["routing"]["replicas"],
        "collector-sampling": chart_values["collector"]["sampling"]["replicas"],
    }
    assert {c: find(docs, "Deployment", name(c))["spec"]["replicas"] for c in wanted} == wanted
    assert min(wanted.values()) > 1


# ---------------------------------------------------------------- services

@each_value_set
def test_every_service_selects_a_pod_and_its_ports(value_set: ValueSet) -> None:
    docs = manifests(value_set)
    templates = pod_templates(docs)
    for service in of_kind(docs, "Service"):
        selector = service["spec"]["selector"]
        selected = [(w, t) for w, t in templates if selector.items() <= t["metadata"]["labels"].items()]
        assert selected, f"Service {service['metadata']['name']} selects no pod: {selector}"
        for workload, template in selected:
            container_ports = {p["name"] for c in template["spec"]["containers"] for p in c["ports"]}
            for port in service["spec"]["ports"]:
                assert port["targetPort"] in container_ports, (
                    f"Service {service['metadata']['name']} port {port['name']} -> {workload} has no {port['targetPort']}")


@each_value_set
def test_every_selector_is_specific_to_one_workload(value_set: ValueSet) -> None:
    templates = pod_templates(manifests(value_set))
    for service in of_kind(manifests(value_set), "Service"):
        selector = service["spec"]["selector"]
        selected = [w for w, t in templates if selector.items() <= t["metadata"]["labels"].items()]
        assert selected == [service["metadata"]["name"]], (service["metadata"]["name"], selected)


@each_value_set
def test_every_url_a_service_is_given_names_a_service_of_the_chart(value_set: ValueSet) -> None:
    docs = manifests(value_set)
    ports_by_service = {s["metadata"]["name"]: {p["port"] for p in s["spec"]["ports"]} for s in of_kind(docs, "Service")}
    for workload, _, container in _containers(value_set):
        for variable in container.get("env", []):
            if variable["name"].endswith("_URL") or variable["name"] == "OTEL_EXPORTER_OTLP_ENDPOINT":
                url = urlsplit(variable["value"])
                assert url.hostname in ports_by_service, f"{workload} {variable['name']}={variable['value']}"
                assert url.port in ports_by_service[url.hostname], f"{workload} {variable['name']}={variable['value']}"

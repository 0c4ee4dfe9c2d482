"""observability/otel-collector-routing.yaml, the tier in front of the sampling
Collectors: it routes by trace id and does nothing else to the spans, and it
receives exactly as the shared config does, so the services cannot tell which
one they send to."""

from __future__ import annotations

import pytest

from .repo_files import OBSERVABILITY, load

ROUTING = load(OBSERVABILITY / "otel-collector-routing.yaml")
SHARED = load(OBSERVABILITY / "otel-collector.yaml")
EXPORTER = ROUTING["exporters"]["load_balancing"]

# key path in the load_balancing exporter -> required value
ROUTING_RULES = {
    "routing_key": "traceID",
    "resolver": "${env:COLLECTOR_ROUTING_RESOLVER}",
    "protocol.otlp.tls.insecure": True,
    # Retries and the queue at the exporter's own level, so a batch is routed
    # again over the samplers known at the time; none per sampler, where a
    # removed sampler's batches were dropped with it.
    "retry_on_failure.enabled": True,
    "retry_on_failure.max_elapsed_time": "0s",
    "sending_queue.enabled": True,
    "sending_queue.queue_size": 5000,
    "protocol.otlp.retry_on_failure.enabled": False,
    "protocol.otlp.sending_queue.enabled": False,
}


def _at(node: dict, path: str):
    for part in path.split("."):
        node = node[part]
    return node


@pytest.mark.parametrize(("path", "value"), ROUTING_RULES.items())
def test_load_balancing_setting(path, value):
    assert _at(EXPORTER, path) == value


def test_spans_pass_through_untouched():
    """Sampling, redaction and batching are the samplers' job: a processor here
    would act on a trace's fragments, not on whole traces."""
    pipelines = ROUTING["service"]["pipelines"]
    assert list(pipelines) == ["traces"]
    assert pipelines["traces"]["processors"] == ["memory_limiter"]
    assert pipelines["traces"]["exporters"] == ["load_balancing"]


@pytest.mark.parametrize("section", ["receivers", "extensions"])
def test_receives_like_the_shared_config(section):
    shared = {key: SHARED[section][key] for key in ROUTING[section]}
    assert ROUTING[section] == shared


def test_limits_memory_like_the_shared_config():
    assert ROUTING["processors"]["memory_limiter"] == SHARED["processors"]["memory_limiter"]

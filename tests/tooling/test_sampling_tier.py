"""The native stack's shapes: one Collector by default, the routing tier in
front of two samplers with --sampling-tier, and (tests/sampling only) the
samplers without the router."""

from __future__ import annotations

import pytest

from tools.native import settings
from tools.native.stack import SERVICES, NativeStack

PORTS = settings.Ports.from_dotenv(settings.read_dotenv())
SAMPLERS = ("collector-sampler-1", "collector-sampler-2")

SHAPES = [
    ({}, ("jaeger", "collector", *SERVICES, "gateway")),
    ({"sampling_tier": True}, ("jaeger", *SAMPLERS, "collector", *SERVICES, "gateway")),
    ({"sampling_tier": True, "route_by_trace_id": False}, ("jaeger", *SAMPLERS, *SERVICES, "gateway")),
]


@pytest.mark.parametrize(("options", "components"), SHAPES)
def test_components_in_start_order(options, components):
    assert NativeStack(PORTS, **options).components == components


def test_services_send_to_the_router_or_each_to_a_sampler_of_its_own():
    routed = NativeStack(PORTS, sampling_tier=True)
    unrouted = NativeStack(PORTS, sampling_tier=True, route_by_trace_id=False)
    collector = f"http://{settings.LOOPBACK}:{PORTS.collector_otlp_http}"
    assert {routed._service_process_env(name)["OTEL_EXPORTER_OTLP_ENDPOINT"] for name in SERVICES} == {collector}
    endpoints = [unrouted._service_process_env(name)["OTEL_EXPORTER_OTLP_ENDPOINT"] for name in SERVICES]
    assert set(endpoints) == {f"http://{settings.LOOPBACK}:{s.otlp_http}" for s in PORTS.samplers}


def test_the_router_lists_every_sampler():
    resolver = settings.routing_env(PORTS)["COLLECTOR_ROUTING_RESOLVER"]
    assert all(f"{settings.LOOPBACK}:{s.otlp_grpc}" in resolver for s in PORTS.samplers)
    assert len(PORTS.samplers) == 2


def test_each_sampler_has_a_queue_of_its_own():
    queues = {settings.sampler_env(PORTS, index)["COLLECTOR_QUEUE_DIR"] for index in range(len(PORTS.samplers))}
    assert len(queues) == len(PORTS.samplers)

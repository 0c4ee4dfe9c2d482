"""The gateway's own contract: X-Trace-ID minting and validation (the services
apply the same rule when called directly), JSON for unknown routes, /health,
and W3C trace context passed through untouched. The conformance endpoint's
absence is test_21, the gateway's own errors test_22, slow clients test_23,
its log lines and Server header test_24."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.support.ids import MINTED_X_TRACE_ID
from tests.support.store_waits import has_span, wait_for_trace
from tools.native.stack import SERVICES

TIMEOUT = 10

VALID_X_TRACE_IDS = ["abc", "A", "req_2026.11.25:42", "Z" * 64, "0-._:"]
INVALID_X_TRACE_IDS = {
    "empty": "",
    "leading-dash": "-abc",
    "leading-dot": ".abc",
    "space": "has space",
    "65-chars": "a" * 65,
    "semicolon": "a;b",
    "quote": 'a"b',
    "slash": "a/b",
    "comma": "a,b",
    "percent-encoded-newline": "abc%0d%0a",
}
VIAS = ["gateway", *SERVICES]


def vendor_members(tracestate: str) -> list[str]:
    """tracestate members as stored, minus `ot`: a probabilistic sampler on
    the way (an SDK's, or a Collector's with tracestate sampling on) writes its
    own `ot=rv:...;th:...` member into the spans it keeps."""
    members = [m.strip() for m in tracestate.split(",") if m.strip()]
    return [m for m in members if not m.startswith("ot=")]


def x_trace_id(response: requests.Response) -> str:
    """The one X-Trace-ID header line of a response; repeats are a failure
    (requests would silently join them with ", ")."""
    lines = response.raw.headers.getlist("X-Trace-ID")
    assert len(lines) == 1, f"X-Trace-ID header lines: {lines}"
    return lines[0]


def process_url(stack, via: str, service: str = "service-a") -> str:
    """/api/process of `service`, through the gateway or directly."""
    if via == "gateway":
        return f"{stack.gateway_url}/{service}/api/process"
    return f"{stack.service_urls[via]}/api/process"


def test_health(stack):
    response = requests.get(f"{stack.gateway_url}/health", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "gateway"}
    assert MINTED_X_TRACE_ID.match(x_trace_id(response))


def test_unknown_route_is_json_404(stack):
    response = requests.get(f"{stack.gateway_url}/no/such/route", timeout=TIMEOUT)
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "not_found" and body["service"] == "gateway"
    assert body["trace_id"] == x_trace_id(response)


@pytest.mark.parametrize("via", VIAS)
def test_minted_x_trace_id_is_now_in_utc_and_unique(stack, via):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    first = requests.get(process_url(stack, via), timeout=TIMEOUT)
    second = requests.get(process_url(stack, via), timeout=TIMEOUT)
    after = datetime.now(timezone.utc)
    for response in (first, second):
        assert response.status_code == 200
        match = MINTED_X_TRACE_ID.match(x_trace_id(response))
        assert match, f"X-Trace-ID {x_trace_id(response)!r} is not in the minted format"
        minted_at = datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        assert before - timedelta(seconds=1) <= minted_at <= after + timedelta(seconds=1)
        assert response.json()["trace_id"] == x_trace_id(response)
    assert x_trace_id(first) != x_trace_id(second)


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("value", VALID_X_TRACE_IDS)
def test_valid_client_x_trace_id_is_kept(stack, via, value):
    response = requests.get(process_url(stack, via), headers={"X-Trace-ID": value}, timeout=TIMEOUT)
    assert response.status_code == 200
    assert x_trace_id(response) == value
    assert response.json()["trace_id"] == value


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("value", INVALID_X_TRACE_IDS.values(), ids=INVALID_X_TRACE_IDS.keys())
def test_invalid_client_x_trace_id_is_replaced(stack, via, value):
    response = requests.get(process_url(stack, via), headers={"X-Trace-ID": value}, timeout=TIMEOUT)
    assert response.status_code == 200
    replaced = x_trace_id(response)
    assert replaced != value and MINTED_X_TRACE_ID.match(replaced), f"X-Trace-ID {value!r} came back as {replaced!r}"
    assert response.json()["trace_id"] == replaced


@pytest.mark.parametrize("service", SERVICES)
def test_trace_context_passes_through_untouched(stack, service):
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    tracestate = "vendor1=opaque-value,vendor2=abc"
    response = requests.get(process_url(stack, "gateway", service), timeout=TIMEOUT, headers={
        "traceparent": f"00-{trace_id}-{parent_id}-01", "tracestate": tracestate})
    assert response.status_code == 200
    assert response.json()["otel_trace_id"] == trace_id
    trace = wait_for_trace(stack.store, trace_id, has_span(service, "SERVER"), timeout=stack.trace_timeout,
                           describe=f"{service}'s server span under the client's traceparent")
    [server] = [s for s in trace.of_kind("SERVER") if s.service == service]
    assert server.parent_span_id == parent_id
    assert vendor_members(server.trace_state) == tracestate.split(","), f"stored tracestate {server.trace_state!r}"
    assert response.headers.get("traceresponse", "").startswith(f"00-{trace_id}-{server.span_id}-")

"""docs/contract.md, "Logs": no request for the path /health is traced, in any
service, whatever its method, query string or answer. The kubelet's and
compose's probes poll it every few seconds; a trace each would flood the store
and skew every count of traces. The path is compared percent-decoded; every
other spelling is traced as before.

Each row sends its request under a traceparent of a fresh trace, then a normal
request under another one. Once the normal request's trace is in the store, a
span of the first request, queued before it by the same exporter, would be there
too."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import pytest

from tests.support import raw_http
from tests.support.store_waits import complete, wait_for_trace
from tools.native.stack import SERVICES

INVALID_TRACE_ID = "0" * 32  # what a body says when there is no server span


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    status: int
    traced: bool = False
    headers: list[tuple[str, str]] = field(default_factory=list)


ROWS = {
    "passing": Row("GET", "/health", 200),
    "failing": Row("GET", "/health", 508, headers=[("X-Hop-Count", "99")]),  # over MAX_HOPS, refused
    "HEAD": Row("HEAD", "/health", 200),
    "with a query": Row("GET", "/health?probe=kubelet", 200),
    "wrong method": Row("POST", "/health", 405),
    "percent-encoded letter": Row("GET", "/%68ealth", 404),  # decoded, it is /health
    "trailing slash": Row("GET", "/health/", 404, traced=True),
    "doubled slash": Row("GET", "//health", 404, traced=True),
    "encoded question mark": Row("GET", "/health%3F", 404, traced=True),
}
def traceparent() -> tuple[str, str, str]:
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    return trace_id, parent_id, f"00-{trace_id}-{parent_id}-01"


@pytest.mark.parametrize("row", ROWS)
@pytest.mark.parametrize("service", SERVICES)
def test_health_check_is_never_traced(stack, service, row):
    base, expected = stack.service_urls[service], ROWS[row]
    health_trace, health_parent_id, health_parent = traceparent()
    normal_trace, normal_parent_id, normal_parent = traceparent()
    health = raw_http.send(base, expected.method, expected.path, [*expected.headers, ("traceparent", health_parent)])
    assert health.status == expected.status, health.body[:500]
    if expected.traced:
        wait_for_trace(stack.store, health_trace, complete(1, remote_parent=health_parent_id),
                       timeout=stack.trace_timeout, describe=f"the trace of {service}'s {expected.path}")
        return
    normal = raw_http.send(base, "GET", "/api/process?fail=false", [("traceparent", normal_parent)])

    # Other routes keep their trace context: the normal request continues its caller's trace.
    assert normal.status == 200 and normal.json()["otel_trace_id"] == normal_trace, normal.body[:500]
    wait_for_trace(stack.store, normal_trace, complete(1, remote_parent=normal_parent_id),
                   timeout=stack.trace_timeout, describe=f"the trace of {service}'s /api/process")
    assert stack.store.get_trace(health_trace) is None, f"{service} traced {expected.method} {expected.path}"

    # The answer is the same as ever, apart from what a server span would have supplied.
    assert health.header("traceresponse") is None, health.header("traceresponse")
    if expected.method == "HEAD":
        return
    body = health.json()
    assert body["service"] == service and body["trace_id"] == health.header("X-Trace-ID"), body
    assert body["otel_trace_id"] == INVALID_TRACE_ID, f"/health answered from a server span: {body}"
    if expected.status == 200:
        assert body["status"] == "ok", body

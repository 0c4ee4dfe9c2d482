"""docs/contract.md, "Logs": no /health request is traced, in any service and
whatever its answer. The kubelet's and compose's probes poll it every few
seconds; a trace each would flood the store and skew every count of traces.

Each case sends the health check under a traceparent of a fresh trace, then
a normal request under another one, on the same connection. Once the normal
request's trace is in the store, a health check span, queued before it by
the same exporter, would be there too."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pytest
import requests

from tests.support.store_waits import complete, wait_for_trace
from tools.native.stack import SERVICES

REQUEST_TIMEOUT = 10.0
INVALID_TRACE_ID = "0" * 32  # what a body says when there is no server span


@dataclass(frozen=True)
class Check:
    headers: dict[str, str]
    status: int


CHECKS = {
    "passing": Check({}, 200),
    "failing": Check({"X-Hop-Count": "99"}, 508),  # over MAX_HOPS: refused, logged, still not traced
}
CASES = [(service, check) for service in SERVICES for check in CHECKS]


def traceparent() -> tuple[str, str]:
    trace_id = secrets.token_hex(16)
    return trace_id, f"00-{trace_id}-{secrets.token_hex(8)}-01"


@pytest.mark.parametrize("service, check", CASES, ids=[f"{service}-{check}" for service, check in CASES])
def test_health_check_is_never_traced(stack, service, check):
    base, expected = stack.service_urls[service], CHECKS[check]
    health_trace, health_parent = traceparent()
    normal_trace, normal_parent = traceparent()
    with requests.Session() as session:
        health = session.get(f"{base}/health", headers={**expected.headers, "traceparent": health_parent},
                             timeout=REQUEST_TIMEOUT)
        normal = session.get(f"{base}/api/process?fail=false", headers={"traceparent": normal_parent},
                             timeout=REQUEST_TIMEOUT)

    # Other routes keep their trace context: the normal request continues its caller's trace.
    assert normal.status_code == 200 and normal.json()["otel_trace_id"] == normal_trace, normal.text[:500]
    wait_for_trace(stack.store, normal_trace, complete(1, remote_parent=normal_parent.split("-")[2]),
                   timeout=stack.trace_timeout, describe=f"the trace of {service}'s /api/process")
    assert stack.store.get_trace(health_trace) is None, f"{service} traced a {check} /health check"

    # The answer is the same as ever, apart from what a server span would have supplied.
    assert health.status_code == expected.status, health.text[:500]
    body = health.json()
    assert body["service"] == service and body["trace_id"] == health.headers["X-Trace-ID"], body
    assert body["otel_trace_id"] == INVALID_TRACE_ID, f"/health answered from a server span: {body}"
    if check == "passing":
        assert body["status"] == "ok", body
    assert "traceresponse" not in health.headers, health.headers["traceresponse"]

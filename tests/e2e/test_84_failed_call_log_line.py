"""docs/contract.md, "Outbound calls": a failed call (other than one of
`POST /test`, logged as `conformance call failed`) writes exactly one `WARN`
`downstream call failed` line with its `url` (no user info, query or
fragment), `error` and `downstream_status`, in every service."""

from __future__ import annotations

import re

import pytest

from tests.support import raw_http
from tests.support.logs import json_lines
from tests.support.polling import NotYet, poll_until
from tools.native.stack import SERVICES

# One service's own behaviour, through its direct URL (as test_84_request_log_line).
pytestmark = pytest.mark.service_input

# service -> (request, status, path the failed call went to, error, downstream_status):
# a call each service makes that fails every time.
ROWS = {
    # A -> B /api/cascade -> C /api/process?fail=true: B answers 502.
    "service-a": ("/api/demo/failure/cascade", 502, "/api/cascade", "downstream_failed", 502),
    # B -> C /api/process?fail=true: the query must not reach the line.
    "service-b": ("/api/cascade", 502, "/api/process", "simulated_failure", 500),
    # C -> EXTERNAL_DEPENDENCY_URL, where nothing listens.
    "service-c": ("/api/dependency-error", 502, "/", "unreachable", None),
}
MESSAGE = "downstream call failed"


@pytest.mark.parametrize("service", SERVICES)
def test_one_failed_call_line(stack, service):
    target, status, path, error, downstream_status = ROWS[service]
    response = raw_http.send(stack.service_urls[service], "GET", target, [])
    assert response.status == status, response.body[:300]
    x_trace_id = response.header("X-Trace-ID")
    log = stack.log_path(service)

    def written():
        # The request's own line comes last: once it is there, every line of the request is.
        lines = [line for line in json_lines(log) if line.get("x_trace_id") == x_trace_id]
        if not any(line.get("message") == "request completed" for line in lines):
            return NotYet(f"no 'request completed' line for x_trace_id {x_trace_id} in {log}")
        return [line for line in lines if line.get("message") == MESSAGE] or NotYet(
            f"no {MESSAGE!r} line for x_trace_id {x_trace_id} in {log}")

    [line] = poll_until(written, timeout=10, describe=f"the {MESSAGE!r} line")
    assert line["level"] == "WARN", line
    assert re.fullmatch(rf"http://[^/?#@]+{re.escape(path)}", line["url"]), line
    assert (line["error"], line["downstream_status"]) == (error, downstream_status), line

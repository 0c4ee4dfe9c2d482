"""docs/contract.md, "Logs": one `request completed` line per request, sent to
each service's own port, with the request's method, route, status, duration,
a level by status class, and the ids of its server span (`""` for a /health
check, which is never traced)."""

from __future__ import annotations

import pytest

from tests.support import raw_http
from tests.support.logs import json_lines
from tests.support.polling import NotYet, poll_until
from tools.native.stack import SERVICES

# One service's own input handling, through its direct URL (as test_30).
pytestmark = pytest.mark.service_input

# case -> (target, header lines, status, level, route)
ROWS = {
    "served": ("/api/process", [], 200, "INFO", "/api/process"),
    "refused input": ("/api/process?fail=yes", [], 400, "WARN", "/api/process"),
    "no route": ("/no/such/route?q=1", [], 404, "WARN", "/no/such/route"),
    "a doubled slash is no route": ("//health", [], 404, "WARN", "//health"),
    "failed": ("/api/process?fail=true", [], 500, "ERROR", "/api/process"),
    "loop detected": ("/api/process", [("X-Hop-Count", "99")], 508, "ERROR", "/api/process"),
    "ids that try to break the line": ("/api/process", [("X-Trace-ID", 'a"b\\c{}'), ("traceparent", '"},{')],
                                       200, "INFO", "/api/process"),
    "a failing health check": ("/health", [("X-Hop-Count", "x")], 400, "WARN", "/health"),
}


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("case", ROWS)
def test_one_request_line(stack, service, case):
    target, headers, status, level, route = ROWS[case]
    response = raw_http.send(stack.service_urls[service], "GET", target, headers)
    assert response.status == status, response.body[:300]
    x_trace_id = response.header("X-Trace-ID")
    log = stack.log_path(service)

    def written():
        lines = [line for line in json_lines(log)
                 if line.get("x_trace_id") == x_trace_id and line.get("message") == "request completed"]
        return lines or NotYet(f"no 'request completed' line for x_trace_id {x_trace_id} in {log}")

    [line] = poll_until(written, timeout=10, describe="the request's log line")
    assert (line["level"], line["method"], line["route"], line["status"]) == (level, "GET", route, status), line
    assert isinstance(line["duration_ms"], (int, float)) and line["duration_ms"] >= 0, line
    _, trace_id, span_id, _ = (response.header("traceresponse") or "-" * 3).split("-")
    assert (line["trace_id"], line["span_id"]) == (trace_id, span_id), (
        f"the line's ids are not the server span's ({response.header('traceresponse')}): {line}")

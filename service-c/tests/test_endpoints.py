"""service-c's endpoints where no e2e row reaches: status, body and the server
span. tests/e2e/test_10_scenarios.py checks /api/error, /api/auth-error,
/api/rate-limit-error and /api/dependency-error through the real service (their
status, error code, headers and error.type); tests/e2e/test_50_bad_input.py the
input rules."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from opentelemetry.trace import StatusCode

from tests.span_queries import exception_events, only_server_span, span_hex, trace_hex


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    status: int
    error: str | None = None  # machine code of an error body
    span_error: bool = False  # server span status ERROR with exception event and error.type
    route: str | None = None  # http.route on the server span (None: unmatched)


CASES = [
    Case("GET", "/api/process", 200, route="/api/process"),
    Case("GET", "/api/process?fail=false&delay_ms=5", 200, route="/api/process"),
    Case("GET", "/api/process?fail=true", 500, "simulated_failure", span_error=True, route="/api/process"),
    Case("GET", "/api/error?fail=false", 200, route="/api/error"),
    Case("GET", "/api/auth-error?fail=false", 200, route="/api/auth-error"),
    Case("GET", "/api/rate-limit-error?fail=false", 200, route="/api/rate-limit-error"),
    Case("GET", "/api/demo/circular?fail=true", 500, "simulated_failure", span_error=True,
         route="/api/demo/circular"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.path}")
def test_endpoint(client, spans, case):
    response = client.open(case.path, method=case.method)
    body = response.get_json()

    assert response.status_code == case.status
    assert body["service"] == "service-c"
    assert body["trace_id"] == response.headers["X-Trace-ID"]
    if case.error:
        assert body["error"] == case.error
        assert body["message"]
    else:
        assert "error" not in body

    server = only_server_span(spans)
    assert body["otel_trace_id"] == trace_hex(server)
    assert server.attributes["app.x_trace_id"] == body["trace_id"]
    assert server.attributes["http.response.status_code"] == case.status
    assert server.attributes.get("http.route") == case.route
    if case.span_error:
        assert server.status.status_code is StatusCode.ERROR
        # The Flask instrumentation's value: the status code (docs/contract.md, "Spans").
        assert server.attributes["error.type"] == str(case.status)
        [event] = exception_events(server)
        assert event.attributes["exception.type"] and event.attributes["exception.message"] == body["message"]
    else:
        assert server.status.status_code is StatusCode.UNSET
        assert not exception_events(server)


@pytest.mark.parametrize("traceparent", [None, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"])
def test_traceresponse_names_the_server_span(client, spans, traceparent):
    response = client.get("/api/process", headers={"traceparent": traceparent} if traceparent else {})
    server = only_server_span(spans)
    flags = f"{server.context.trace_flags:02x}"
    assert response.headers["traceresponse"] == f"00-{trace_hex(server)}-{span_hex(server)}-{flags}"
    if traceparent:
        assert trace_hex(server) == "0af7651916cd43dd8448eb211c80319c"


def test_traceresponse_of_an_unsampled_request(client, spans):
    """The parent said "not sampled": the request is recorded all the same, and traceresponse says so."""
    response = client.get("/api/process", headers={"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"})
    server = only_server_span(spans)
    assert server.parent.span_id == 0xB7AD6B7169203331
    assert response.headers["traceresponse"] == f"00-0af7651916cd43dd8448eb211c80319c-{span_hex(server)}-01"


def test_random_error_endpoint_produces_both_outcomes(client, spans):
    statuses = {client.get("/api/error").status_code for _ in range(60)}
    # p = 0.5 each: both missing from 60 tries has probability 2 * 0.5**60.
    assert statuses == {200, 500}


def test_delay_is_recorded_on_the_span(client, spans):
    client.get("/api/process?delay_ms=15")
    assert only_server_span(spans).attributes["app.simulated_delay_ms"] == 20 + 15


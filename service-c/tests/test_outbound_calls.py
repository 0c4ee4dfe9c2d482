"""Calls service-c makes: circular (to service-a) and the external dependency."""

from __future__ import annotations

import pytest
from opentelemetry.trace import SpanKind, StatusCode

from tests.span_queries import exception_events, of_kind, only_server_span, span_hex, trace_hex


@pytest.fixture
def service_a(recording_server, make_client):
    """A client whose SERVICE_A_URL is the recording server."""
    return recording_server, make_client(service_a_url=recording_server.url)


def test_circular_calls_service_a_with_context_and_business_headers(service_a, spans):
    server_a, client = service_a
    response = client.get("/api/demo/circular", headers={"X-Trace-ID": "trace-abc", "X-Hop-Count": "2"})

    assert response.status_code == 200
    assert response.get_json()["results"] == {"service-a": {"service": "service-a", "status": "ok"}}
    [call] = server_a.requests
    assert (call.method, call.path) == ("GET", "/api/process")
    assert call.values("X-Trace-ID") == ["trace-abc"]
    assert call.values("X-Hop-Count") == ["3"]

    server = only_server_span(spans)
    [client_span] = of_kind(spans, SpanKind.CLIENT)
    assert client_span.parent.span_id == server.context.span_id
    flags = f"{client_span.context.trace_flags:02x}"
    assert call.values("traceparent") == [f"00-{trace_hex(server)}-{span_hex(client_span)}-{flags}"]


@pytest.mark.parametrize(("status", "body", "delay", "reason", "result_status"), [
    (508, b'{"error": "loop_detected"}', 0.0, "loop_detected", 508),  # the callee's own code
    (500, b"{}", 0.0, "bad_status", 500),  # an error status without one
    (500, b"<html>", 0.0, "bad_status", 500),
    (500, b"[" * 100_000, 0.0, "bad_status", 500),  # nested past the JSON decoder's recursion limit
    (200, b"{}", 2.0, "timeout", None),  # answers after the 0.5 s DOWNSTREAM_TIMEOUT_MS of the test app
])
def test_circular_reports_a_failed_call_as_502(service_a, spans, status, body, delay, reason, result_status):
    server_a, client = service_a
    server_a.status, server_a.body, server_a.delay = status, body, delay

    response = client.get("/api/demo/circular")

    assert response.status_code == 502
    body = response.get_json()
    assert body["error"] == "downstream_error"
    assert body["results"]["service-a"] == {"error": reason, "status": result_status}
    server = only_server_span(spans)
    assert server.status.status_code is StatusCode.ERROR
    assert len(exception_events(server)) == 1
    [client_span] = of_kind(spans, SpanKind.CLIENT)
    assert client_span.status.status_code is StatusCode.ERROR
    assert client_span.attributes["error.type"]


def test_dependency_error_is_a_real_failed_client_span(client, spans, log_lines):
    response = client.get("/api/dependency-error")

    assert response.status_code == 502
    assert [(line["level"], line["url"], line["error"], line["downstream_status"])
            for line in log_lines() if line["message"] == "downstream call failed"] == [
        ("WARN", "http://127.0.0.1:9/", "unreachable", None)]
    server = only_server_span(spans)
    [client_span] = of_kind(spans, SpanKind.CLIENT)
    assert client_span.parent.span_id == server.context.span_id
    assert client_span.status.status_code is StatusCode.ERROR
    assert client_span.attributes["error.type"] == "ConnectionError"
    assert len(exception_events(client_span)) == 1
    assert "http.response.status_code" not in client_span.attributes
    assert server.status.status_code is StatusCode.ERROR
    assert len(exception_events(server)) == 1


def test_dependency_that_answers_is_a_success(recording_server, make_client, spans):
    client = make_client(external_dependency_url=recording_server.url + "/ping")
    response = client.get("/api/dependency-error")
    assert response.status_code == 200
    assert response.get_json()["dependency"]["status"] == 200

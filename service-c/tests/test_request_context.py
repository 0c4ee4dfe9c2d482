"""X-Trace-ID and X-Hop-Count rules shared by every endpoint."""

from __future__ import annotations

import re

import pytest
from opentelemetry.trace import StatusCode

from app.request_context import accept_or_mint_x_trace_id
from tests.span_queries import exception_events, only_server_span

MINTED = re.compile(r"trace-\d{8}T\d{6}Z-[0-9a-f]{8}")


@pytest.mark.parametrize("value", [
    "trace-20261125T004012Z-1a2b3c4d",
    "a",
    "A" * 64,
    "req.1.2:3-4",
])
def test_valid_x_trace_id_is_kept(value):
    assert accept_or_mint_x_trace_id(value) == value


@pytest.mark.parametrize("value", [
    None,
    "",
    "A" * 65,
    "-leading-dash",
    "has space",
    'quote"inside',
    "new\nline",
    "ünïcode",
    "x" * 10_000,
])
def test_invalid_x_trace_id_is_replaced(value):
    assert MINTED.fullmatch(accept_or_mint_x_trace_id(value))


@pytest.mark.parametrize(("sent", "kept"), [
    ("trace-20261125T004012Z-1a2b3c4d", True),
    ('evil" , "x": "y', False),
    ("x" * 10_000, False),
])
def test_x_trace_id_reaches_header_body_span_and_logs(client, spans, log_lines, sent, kept):
    response = client.get("/api/process", headers={"X-Trace-ID": sent})
    x_trace_id = response.headers["X-Trace-ID"]
    assert (x_trace_id == sent) is kept
    if not kept:
        assert MINTED.fullmatch(x_trace_id)
    assert response.get_json()["trace_id"] == x_trace_id
    assert only_server_span(spans).attributes["app.x_trace_id"] == x_trace_id
    request_lines = [line for line in log_lines() if line["message"] == "request completed"]
    assert [line["x_trace_id"] for line in request_lines] == [x_trace_id]


@pytest.mark.parametrize(("hops", "status", "error"), [
    (None, 200, None),
    ("0", 200, None),
    ("5", 200, None),
    ("6", 508, "loop_detected"),
    ("abc", 400, "invalid_hop_count"),
    ("-1", 400, "invalid_hop_count"),
])
def test_hop_limit(client, spans, hops, status, error):
    headers = {} if hops is None else {"X-Hop-Count": hops}
    response = client.get("/api/process", headers=headers)
    assert response.status_code == status
    assert response.get_json().get("error") == error
    server = only_server_span(spans)
    if status == 508:
        assert server.status.status_code is StatusCode.ERROR
        assert server.attributes["error.type"]
        assert len(exception_events(server)) == 1
    if status == 200:
        assert server.attributes["app.hop_count"] == int(hops or 0)


def test_loop_detected_happens_before_any_work(client, spans):
    client.get("/api/process?delay_ms=5", headers={"X-Hop-Count": "6"})
    assert "app.simulated_delay_ms" not in only_server_span(spans).attributes


def test_hop_limit_comes_from_settings(make_client, spans):
    assert make_client(max_hops=0).get("/health", headers={"X-Hop-Count": "1"}).status_code == 508

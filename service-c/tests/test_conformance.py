"""POST /test, the W3C Trace Context test suite's endpoint."""

from __future__ import annotations

import json

import pytest
from opentelemetry.trace import SpanKind

from tests.span_queries import of_kind, only_server_span, span_hex

INCOMING_TRACE = "0af7651916cd43dd8448eb211c80319c"
INCOMING = f"00-{INCOMING_TRACE}-b7ad6b7169203331-01"


def test_each_call_has_one_traceparent_and_its_own_client_span(client, spans, recording_server):
    calls = [{"url": f"{recording_server.url}/step/{n}", "arguments": [{"n": n}]} for n in range(3)]

    response = client.post("/test", json=calls, headers={"traceparent": INCOMING, "tracestate": "vendor=1"})

    assert response.status_code == 200
    assert response.get_json() == []
    assert [r.path for r in recording_server.requests] == ["/step/0", "/step/1", "/step/2"]
    assert [json.loads(r.body) for r in recording_server.requests] == [[{"n": 0}], [{"n": 1}], [{"n": 2}]]

    traceparents = [r.values("traceparent") for r in recording_server.requests]
    assert all(len(values) == 1 for values in traceparents)
    parents = [values[0].split("-")[2] for values in traceparents]
    assert len(set(parents)) == 3
    assert all(values[0].split("-")[1] == INCOMING_TRACE for values in traceparents)
    assert all(r.values("tracestate") == ["vendor=1"] for r in recording_server.requests)

    server = only_server_span(spans)
    client_spans = of_kind(spans, SpanKind.CLIENT)
    assert parents == [span_hex(s) for s in client_spans]
    assert all(s.parent.span_id == server.context.span_id for s in client_spans)


def test_a_failed_call_does_not_stop_the_others(client, spans, recording_server):
    calls = [{"url": "http://127.0.0.1:9/", "arguments": []}, {"url": recording_server.url, "arguments": []}]
    response = client.post("/test", json=calls)
    assert response.status_code == 200
    assert len(recording_server.requests) == 1


def test_cookies_from_one_request_do_not_leak_into_the_next(client, spans, recording_server):
    """The worker's pooled HTTP session is shared by every request it serves."""
    recording_server.headers = {"Set-Cookie": "session=secret; Path=/"}
    calls = [{"url": recording_server.url, "arguments": []}]
    for _ in range(2):
        assert client.post("/test", json=calls).status_code == 200
    assert [r.values("Cookie") for r in recording_server.requests] == [[], []]


@pytest.mark.parametrize("body", [
    b"",
    b"not json",
    b"{\"url\": \"http://127.0.0.1:1/\"}",
    b"[1, 2]",
    b"[{\"arguments\": []}]",
    b"[{\"url\": \"file:///etc/passwd\", \"arguments\": []}]",
    b"[{\"url\": 42}]",
    b"[{\"url\": \"http://127.0.0.1:1/\", \"arguments\": \"notalist\"}]",
    b"[{\"url\": \"http://127.0.0.1:1/\", \"arguments\": null}]",
    b"[{\"url\": \"http://127.0.0.1:1/\"}]",  # arguments are required
    b"[{\"URL\": \"http://127.0.0.1:1/\", \"Arguments\": []}]",
    b"\xff\xfe",
    b"[" * 60_000,  # nesting past the JSON decoder's recursion limit, under the 64 KiB cap
    json.dumps([{"url": "http://127.0.0.1:1/", "arguments": []}] * 33).encode(),  # over the 32-call cap
])
def test_malformed_body_is_400(client, spans, recording_server, body):
    response = client.post("/test", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_body"
    assert recording_server.requests == []

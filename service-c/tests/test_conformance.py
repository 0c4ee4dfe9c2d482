"""POST /test, the W3C Trace Context test suite's endpoint: what no e2e row
reaches. The calls (order, one traceparent each, tracestate, a failed call
logged and passed over) are tests/e2e/test_40_outbound_traceparent.py's rows,
the body rules tests/e2e/test_50_bad_input.py's, for all three services."""

from __future__ import annotations


def test_cookies_from_one_request_do_not_leak_into_the_next(client, spans, recording_server):
    """The worker's pooled HTTP session is shared by every request it serves."""
    recording_server.headers = {"Set-Cookie": "session=secret; Path=/"}
    calls = [{"url": recording_server.url, "arguments": []}]
    for _ in range(2):
        assert client.post("/test", json=calls).status_code == 200
    assert [r.values("Cookie") for r in recording_server.requests] == [[], []]

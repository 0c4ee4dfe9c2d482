"""POST /test bodies over raw sockets against a real gunicorn (docs/contract.md, "Input rules").

Body framing is the server's business (its worker reads the request before a
thread serves it), so only a real gunicorn shows whether a short or broken
body ends in a 400 or a closed connection in time, never a hang or a 5xx
(request_buffering.py, body_deadline.py). The
client side stays connected and silent after sending, as a stalled or
hostile client would.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.server.request_buffering import BODY_DEADLINE_S
from tests.gunicorn_support import Gunicorn, poll, raw_exchange, running_gunicorn

# docs/contract.md: a body has 10 s after its head.
CONTRACT_LIMIT_S = 10.0
# The service's clock starts when the head arrives, a little after this
# test's, and the worker acts on it at its next turn.
LATE_S = 1.0
KIB = 1024
QUERY_SECRET = "s3cr3t-query-value"


def post(body_head: bytes, framing: str, *, path: str = "/test") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
            .encode() + body_head)


def chunked(*pieces: bytes) -> bytes:
    return b"".join(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" for piece in pieces) + b"0\r\n\r\n"


# case -> (request bytes, acceptable statuses; None = the connection closed without an answer)
CASES = {
    "content-length-valid": (post(b"[]", "Content-Length: 2"), {200}),
    "chunked-valid": (post(chunked(b"[", b"]"), "Transfer-Encoding: chunked"), {200}),
    "content-length-larger-than-the-body": (post(b"[]", "Content-Length: 100"), {400, None}),
    "content-length-and-nothing-sent": (post(b"", "Content-Length: 10"), {400, None}),
    "chunk-size-not-hex": (post(b"zz\r\n[]\r\n0\r\n\r\n", "Transfer-Encoding: chunked"), {400, None}),
    "chunk-longer-than-its-size": (post(b"2\r\n[]]]\r\n0\r\n\r\n", "Transfer-Encoding: chunked"), {400, None}),
    "chunked-stops-mid-chunk": (post(b"10\r\n[", "Transfer-Encoding: chunked"), {400, None}),
    "chunked-without-last-chunk": (post(b"2\r\n[]\r\n", "Transfer-Encoding: chunked"), {400, None}),
    "chunked-last-chunk-without-final-crlf": (post(b"2\r\n[]\r\n0\r\n", "Transfer-Encoding: chunked"),
                                              {400, None}),
    "content-length-over-64-kib": (post(b"", f"Content-Length: {64 * KIB + 1}"), {413}),
    "chunked-over-64-kib": (post(chunked(b"[" + b" " * (64 * KIB) + b"]"), "Transfer-Encoding: chunked"), {413}),
    "exactly-64-kib": (post(b"[" + b" " * (64 * KIB - 2) + b"]", f"Content-Length: {64 * KIB}"), {200}),
    "not-json": (post(b"{nope", "Content-Length: 5"), {400}),
}
ERROR_CODES = {400: "invalid_body", 413: "body_too_large"}


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory) -> Iterator[Gunicorn]:
    log_path = tmp_path_factory.mktemp("gunicorn-body") / "service-c.log"
    # No Collector, and no scheduled export to miss it: spans stay in the
    # batch queue until the fixture kills the process.
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_BSP_SCHEDULE_DELAY": "600000",
           "LOG_LEVEL": "INFO", "CONFORMANCE_ENDPOINT": "on"}
    with running_gunicorn(log_path, env) as running:
        yield running


@pytest.mark.parametrize("case", CASES)
def test_body_ends_in_an_answer_or_a_close_in_time(gunicorn, case):
    data, statuses = CASES[case]
    answer = raw_exchange(gunicorn.port, data, timeout_s=CONTRACT_LIMIT_S + 5)

    assert answer.status in statuses, f"{answer.status}: {answer.head[:200]!r} {answer.body[:200]!r}"
    assert answer.seconds <= CONTRACT_LIMIT_S + LATE_S, f"took {answer.seconds:.1f}s"
    if answer.status in ERROR_CODES:
        assert answer.json()["error"] == ERROR_CODES[answer.status]
    if answer.status == 200:
        assert answer.json() == []


def test_a_stalled_body_is_given_up_after_the_read_deadline(gunicorn):
    """Not sooner: a slow client still gets BODY_DEADLINE_S to send its body."""
    answer = raw_exchange(gunicorn.port, post(b"[", "Content-Length: 2"), timeout_s=CONTRACT_LIMIT_S + 5)
    assert answer.status == 400
    assert BODY_DEADLINE_S <= answer.seconds <= CONTRACT_LIMIT_S + LATE_S


def test_the_service_still_serves_and_logged_no_error_and_no_query(gunicorn):
    answer = raw_exchange(gunicorn.port, f"GET /health?token={QUERY_SECRET}&fail=1 HTTP/1.1\r\nHost: x\r\n"
                                         "Connection: close\r\n\r\n".encode())
    assert answer.status == 200
    # A request line gunicorn refuses itself: gunicorn would quote it in its log.
    refused = raw_exchange(gunicorn.port, f"GET /health?token={QUERY_SECRET}\x7f HTTP/1.1\r\n\r\n".encode())
    assert refused.status == 400
    poll(lambda: any(r.get("error") == "InvalidRequestLine" for r in gunicorn.records()), 10, "the refusal's line")

    records = gunicorn.records()
    assert not [r for r in records if r["level"] == "ERROR"], [r for r in records if r["level"] == "ERROR"]
    assert not [r for r in records if r.get("status", 0) >= 500]
    assert QUERY_SECRET not in gunicorn.log_path.read_text()
    assert not [r for r in records if "?" in str(r.get("route", ""))]

"""Requests gunicorn refuses before the app sees them get the contract's JSON
error and one log line (protocol_refusals.py), never gunicorn's HTML page,
and the client's bytes are quoted in neither."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from gunicorn.http import errors

from app.request_context import _X_TRACE_ID_FORMAT
from app.server.protocol_refusals import JsonErrorWorker, refusal_for
from tests.gunicorn_support import Gunicorn, raw_exchange, running_gunicorn


def request(target: bytes, header_lines: bytes = b"") -> bytes:
    return b"GET " + target + b" HTTP/1.1\r\nHost: c\r\n" + header_lines + b"Connection: close\r\n\r\n"


# case -> (raw request, status, error code, the exception gunicorn raised)
REFUSED = {
    "raw bytes >= 0x80 in the path": (request(b"/api/\xff\xfe"), 400, "bad_request", "InvalidRequestLine"),
    "raw bytes in the query": (request(b"/api/process?token=\xc1\xa5"), 400, "bad_request", "InvalidRequestLine"),
    "a method that is no token": (b"G\xffT / HTTP/1.1\r\nHost: c\r\n\r\n", 400, "bad_request", "InvalidRequestMethod"),
    "a control byte in a header value": (request(b"/api/process", b"User-Agent: a\x01b\r\n"), 400, "bad_request",
                                         "InvalidHeader"),
    "a header name that is no token": (request(b"/api/process", b"X\xffY: 1\r\n"), 400, "bad_request",
                                       "InvalidHeaderName"),
    "a TLS ClientHello on the plain port": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400,
                                            "bad_request", "InvalidRequestLine"),
    "a request line over the limit": (request(b"/" + b"a" * 9000), 414, "uri_too_long", "LimitRequestLine"),
    "a header line over the limit": (request(b"/api/process", b"X-Big: " + b"b" * 20000 + b"\r\n"), 431,
                                     "headers_too_large", "LimitRequestHeaders"),
    "an Expect other than 100-continue": (request(b"/api/process", b"Expect: teapot\r\n"), 417, "expectation_failed",
                                          "ExpectationFailed"),
    # docs/contract.md, "Input rules": a version outside 1.x is 505, a token
    # method against gunicorn's conventions one no service implements (501);
    # a version or method that is no version or token is a malformed line.
    "HTTP/2.0": (b"GET /api/process HTTP/2.0\r\nHost: c\r\n\r\n", 505, "http_version_not_supported",
                 "InvalidHTTPVersion"),
    "a method of two letters": (b"GE /api/process HTTP/1.1\r\nHost: c\r\n\r\n", 501, "not_implemented",
                                "InvalidRequestMethod"),
    "a version that is no version": (b"GET /api/process HTTP/1.10\r\nHost: c\r\n\r\n", 400, "bad_request",
                                     "InvalidHTTPVersion"),
}
QUOTED = (b"\xff", b"\xc1", b"\x01", b"token", b"teapot", b"aaaa", b"bbbb")


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory) -> Iterator[Gunicorn]:
    log_path = tmp_path_factory.mktemp("gunicorn-refusals") / "service-c.log"
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_BSP_SCHEDULE_DELAY": "600000",
           "LOG_LEVEL": "INFO"}
    with running_gunicorn(log_path, env) as running:
        yield running


@pytest.mark.parametrize("case", REFUSED)
def test_a_refused_request_gets_a_json_error_and_one_line(gunicorn, case):
    data, status, code, exception = REFUSED[case]
    offset = len(gunicorn.log_path.read_bytes())
    answer = raw_exchange(gunicorn.port, data)

    assert answer.status == status, f"{answer.head!r} {answer.body[:200]!r}"
    head = answer.head.decode("latin-1").lower()
    assert "content-type: application/json" in head and "connection: close" in head
    body = answer.json()
    assert _X_TRACE_ID_FORMAT.fullmatch(body["trace_id"]), body
    assert body == {"service": "service-c", "trace_id": body["trace_id"], "error": code, "message": body["message"]}
    assert f"x-trace-id: {body['trace_id']}".lower() in head

    # The master's log file: the worker writes its line before its answer.
    logged = gunicorn.log_path.read_bytes()[offset:]
    lines = [json.loads(line) for line in logged.splitlines()]
    assert [(r["level"], r["message"], r["status"], r["error"], r["x_trace_id"]) for r in lines] == [
        ("ERROR" if status >= 500 else "WARN", "request completed", status, exception, body["trace_id"])]
    assert (lines[0]["method"], lines[0]["route"], lines[0]["trace_id"]) == ("", "", "")
    for quoted in QUOTED:
        assert quoted not in answer.body and quoted not in logged, f"{quoted!r} quoted"


def test_statuses_follow_gunicorn_and_a_failure_of_the_service_is_a_500():
    assert refusal_for(errors.InvalidRequestLine("x"))[:2] == (400, "bad_request")
    assert refusal_for(errors.InvalidChunkSize("x"))[:2] == (400, "bad_request")
    assert refusal_for(errors.InvalidResponseHeader("X-A", "x"))[:2] == (500, "internal_error")
    assert refusal_for(RuntimeError("boom"))[:2] == (500, "internal_error")
    assert refusal_for(errors.InvalidHTTPVersion((2, 0)))[:2] == (505, "http_version_not_supported")
    assert refusal_for(errors.InvalidHTTPVersion("HTTP/1.10"))[:2] == (400, "bad_request")


def test_a_failure_outside_the_app_is_a_json_500_with_its_traceback(caplog):
    server, client = socket.socketpair()
    with server, client, caplog.at_level(logging.INFO, logger="service_c.request"):
        try:
            raise RuntimeError("boom")
        except RuntimeError as error:
            JsonErrorWorker.handle_error(SimpleNamespace(log=logging.getLogger("test")), None, server,
                                         ("127.0.0.1", 1), error)
        client.settimeout(5)
        head, _, body = client.recv(65536).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert json.loads(body)["error"] == "internal_error"
    [record] = caplog.records
    assert (record.levelname, record.getMessage(), record.status) == ("ERROR", "request completed", 500)
    assert record.exc_info[1].args == ("boom",)

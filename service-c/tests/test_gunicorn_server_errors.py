"""Request lines gunicorn refuses itself, against a real gunicorn (server_errors.py).

A version outside 1.x and a method against gunicorn's conventions never reach
the app; they must still get the contract's answer (docs/contract.md, "Input
rules"), in JSON, with their line in the log. What gunicorn lets through gets
the same answer from the app. A request line that is malformed stays
gunicorn's 400.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.gunicorn_support import Gunicorn, raw_exchange, running_gunicorn

# (request line, status, error code; None: gunicorn's own answer, not JSON)
CASES = [
    ("GET /api/process HTTP/2.0", 505, "http_version_not_supported"),
    ("GET /api/process HTTP/0.9", 505, "http_version_not_supported"),
    ("GET /api/process HTTP/3.0", 505, "http_version_not_supported"),
    ("GET /api/process HTTP/1.2", 505, "http_version_not_supported"),  # the app's answer
    ("get /api/process HTTP/1.1", 501, "not_implemented"),
    ("GE /api/process HTTP/1.1", 501, "not_implemented"),
    ("FOO /api/process HTTP/1.1", 501, "not_implemented"),  # the app's answer
    ("GET /api/process HTTP/1.10", 400, None),
    ("G(T /api/process HTTP/1.1", 400, None),
]


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory) -> Iterator[Gunicorn]:
    log_path = tmp_path_factory.mktemp("gunicorn-server-errors") / "service-c.log"
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_BSP_SCHEDULE_DELAY": "600000",
           "LOG_LEVEL": "INFO"}
    with running_gunicorn(log_path, env) as running:
        yield running


@pytest.mark.parametrize(("line", "status", "error"), CASES, ids=[case[0] for case in CASES])
def test_request_line(gunicorn, log_validator, line, status, error):
    answer = raw_exchange(gunicorn.port, f"{line}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())

    assert answer.status == status, f"{answer.head[:200]!r} {answer.body[:200]!r}"
    if error is None:
        return
    body = answer.json()
    x_trace_id = re.search(rb"(?im)^x-trace-id: *(\S+)", answer.head).group(1).decode()
    assert (body["service"], body["error"], body["trace_id"]) == ("service-c", error, x_trace_id)
    assert body["message"]
    request_lines = [record for record in gunicorn.records()
                     if record.get("message") == "request completed" and record.get("x_trace_id") == x_trace_id]
    assert [(record["status"], record["level"]) for record in request_lines] == [(status, "ERROR")]
    for record in gunicorn.records():
        log_validator.validate(record)

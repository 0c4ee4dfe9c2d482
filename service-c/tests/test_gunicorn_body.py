"""A real gunicorn keeps a request's query out of its log, also for a request
line it refuses itself (which gunicorn would quote).

Body framing and the body deadline, once checked here, are
tests/e2e/test_50_bad_input.py's body-framing rows and
tests/e2e/test_56_slow_clients.py, on every service's own port.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.gunicorn_support import Gunicorn, poll, raw_exchange, running_gunicorn

QUERY_SECRET = "s3cr3t-query-value"


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory) -> Iterator[Gunicorn]:
    log_path = tmp_path_factory.mktemp("gunicorn-body") / "service-c.log"
    # No Collector, and no scheduled export to miss it: spans stay in the
    # batch queue until the fixture kills the process.
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_BSP_SCHEDULE_DELAY": "600000",
           "LOG_LEVEL": "INFO", "CONFORMANCE_ENDPOINT": "on"}
    with running_gunicorn(log_path, env) as running:
        yield running


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

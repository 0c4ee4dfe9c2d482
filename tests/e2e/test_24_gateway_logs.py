"""The gateway's own log lines and headers: millisecond UTC timestamps like the
services, /health never logged (a health check every few seconds would flood
the log store), method and route that stay UTF-8 whatever bytes came, and a
Server header that names no version."""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.support import raw_http
from tests.support.logs import json_lines, line_problem
from tests.support.polling import NotYet, poll_until

MILLISECOND_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SERVER_HEADER_PATHS = ["/health", "/service-a/api/process", "/service-b/health", "/no/such/route"]


def logged_lines(stack, x_trace_id: str) -> list[dict]:
    return [line for line in json_lines(stack.log_path("gateway")) if line.get("x_trace_id") == x_trace_id]


def test_health_is_not_logged_and_other_lines_carry_milliseconds(stack):
    health_id, marker_id = f"health-{secrets.token_hex(4)}", f"marker-{secrets.token_hex(4)}"
    before = datetime.now(timezone.utc)
    # One keep-alive connection: nginx writes a request's log line before it reads
    # the next request on that connection, so once the marker is logged, a line
    # for the health check would be there too.
    with requests.Session() as session:
        assert session.get(f"{stack.gateway_url}/health", headers={"X-Trace-ID": health_id}, timeout=10).ok
        assert session.get(f"{stack.gateway_url}/service-a/api/process", headers={"X-Trace-ID": marker_id},
                           timeout=10).ok
    after = datetime.now(timezone.utc)

    [marker] = poll_until(lambda: logged_lines(stack, marker_id) or NotYet("marker line not logged yet"),
                          timeout=10, describe="the marker request's gateway log line")
    assert logged_lines(stack, health_id) == [], "GET /health was logged"

    assert MILLISECOND_UTC.match(marker["timestamp"]), marker["timestamp"]
    stamped = datetime.strptime(marker["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert before - timedelta(seconds=1) <= stamped <= after + timedelta(seconds=1), (before, stamped, after)
    assert (marker["method"], marker["route"], marker["status"]) == ("GET", "/service-a/api/process", 200)


def test_log_route_is_the_path_without_the_query(stack):
    x_trace_id = f"query-{secrets.token_hex(4)}"
    response = requests.get(f"{stack.gateway_url}/service-a/api/process?token=s3cret&delay_ms=0",
                            headers={"X-Trace-ID": x_trace_id}, timeout=10)
    assert response.ok
    [line] = poll_until(lambda: logged_lines(stack, x_trace_id) or NotYet("not logged yet"),
                        timeout=10, describe="the request's gateway log line")
    assert line["route"] == "/service-a/api/process"
    assert "s3cret" not in str(line)


# Raw request bytes -> (method, route) logged. escape=json would write bytes
# >= 0x80 as they came, leaving a line that is not UTF-8: the gateway logs
# each up to its first byte outside printable ASCII, then U+FFFD.
NOT_TEXT = {
    "raw bytes in the path": (b"GET /service-a/api/\xff\xfe?q=\xc1 HTTP/1.1\r\nHost: g\r\n",
                              ("GET", "/service-a/api/\ufffd")),
    "method not text": (b"G\xffT /service-a/api/process HTTP/1.1\r\nHost: g\r\n", ("G\ufffd", "")),
    "TLS ClientHello": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n", ("\ufffd", "")),
}


@pytest.mark.parametrize("case", NOT_TEXT)
def test_method_and_route_that_are_not_text_are_logged_as_utf8(stack, case):
    request, logged = NOT_TEXT[case]
    offset = stack.log_path("gateway").stat().st_size
    response = raw_http.exchange(stack.gateway_url, request + b"Connection: close\r\n\r\n")
    assert response.status == 400, response.body[:300]
    x_trace_id = response.header("X-Trace-ID")

    def line():
        raw = [raw for raw in stack.log_path("gateway").read_bytes()[offset:].split(b"\n") if raw]
        return raw or NotYet("not logged yet")

    [raw] = poll_until(line, timeout=10, describe="the request's gateway log line")
    assert line_problem(raw) is None, f"{line_problem(raw)}: {raw!r}"
    entry = json.loads(raw)
    assert (entry["method"], entry["route"], entry["x_trace_id"]) == (*logged, x_trace_id)


@pytest.mark.parametrize("path", SERVER_HEADER_PATHS)
def test_server_header_names_no_version(stack, path):
    response = requests.get(f"{stack.gateway_url}{path}", timeout=10)
    assert response.headers.get("Server") == "nginx", response.headers

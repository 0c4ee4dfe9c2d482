"""docs/contract.md, "Secrets never stored", for what nginx logs on its own:
a request nginx refuses or cannot pass on leaves no credential of its query
string in any file of the log folder (nginx's error log quotes the request
line and the upstream URL whole, so it writes only crit and worse). The
access-log line of each request proves it reached the gateway."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Callable

import pytest

from tests.support import raw_http
from tests.support.logs import json_lines
from tests.support.polling import NotYet, poll_until
from tests.support.refused_requests import bad_chunked, plain, too_large


@dataclass(frozen=True)
class Case:
    request: Callable[[str], bytes]  # the request line's query -> the whole request
    status: int
    native_only: str = ""  # a stop of a component: needs the native runner


def refused_by_nginx(build: Callable[[str], bytes], path: str) -> Callable[[str], bytes]:
    return lambda query: build(f"{path}?{query}")


CASES = {
    "413 body too large": Case(refused_by_nginx(too_large, "/service-a/api/process"), 413),
    "400 bad chunked body": Case(refused_by_nginx(bad_chunked, "/service-a/api/process"), 400),
    "502 upstream down": Case(refused_by_nginx(plain, "/service-b/api/process"), 502, native_only="service-b"),
}


def credentials() -> tuple[str, list[str]]:
    """A query string with fresh credential values, in encoded and bracketed names too."""
    values = [f"leak{secrets.token_hex(8)}" for _ in range(4)]
    names = ["token", "token%20", "api_key[]", "X-Amz-Signature"]
    return "&".join(f"{name}={value}" for name, value in zip(names, values)) + "&app_note=kept", values


@pytest.mark.parametrize("case", CASES)
def test_no_credential_of_a_refused_request_reaches_a_log_file(stack, case):
    log_dir = stack.log_path("gateway").parent
    offset = stack.log_path("gateway").stat().st_size
    query, values = credentials()
    stopped = CASES[case].native_only
    if stopped:
        stack.require_native().stop_component(stopped)
    try:
        response = raw_http.exchange(stack.gateway_url, CASES[case].request(query))
    finally:
        if stopped:
            stack.require_native().start_component(stopped)
    assert response.status == CASES[case].status, f"{response.status}: {response.body[:300]!r}"

    x_trace_id = response.header("X-Trace-ID")
    poll_until(lambda: any(line.get("x_trace_id") == x_trace_id for line in json_lines(stack.log_path("gateway"), offset))
               or NotYet("no access-log line yet"), timeout=10, interval=0.2, describe=f"the access-log line of {case}")
    leaks = {path.name: [v for v in values if v in path.read_text(errors="replace")]
             for path in sorted(log_dir.glob("*.log"))}
    assert {name: found for name, found in leaks.items() if found} == {}, f"{case}: credentials written to log files"

"""docs/contract.md, "Outbound calls" (and the credentials rule of "Input
rules"): one table, each row sent to every service's own POST /test, whose one
call goes to a local target that misbehaves as the row says. A failed call is
told by its `conformance call failed` line (`url`, `error`, `downstream_status`)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import pytest
import requests

from tests.support.logs import json_lines
from tests.support.misbehaving_target import HOLD_FOR_S, MisbehavingTarget
from tests.support.polling import NotYet, poll_until
from tools.native.stack import SERVICES

# The service under test calls a server on this machine, through POST /test.
pytestmark = pytest.mark.usefixtures("callbacks_reach_this_host")

# DOWNSTREAM_TIMEOUT_MS: the contract's default, and the native runner's.
DEADLINE_S = 2.0
# A call ends within this much after its deadline: generous for a busy
# 2-core machine, and far below HOLD_FOR_S, which an uncut call waits out.
LATE_BY_S = 5.0
assert DEADLINE_S + LATE_BY_S < HOLD_FOR_S / 2


@dataclass(frozen=True)
class Row:
    url: str  # JSON string content, escapes included; {host} is the target's
    answer: int  # POST /test's status
    outcome: tuple[str, int | None] | None  # the failed call's (error, downstream_status); None: no failure
    received: list[str]  # the paths the target got
    cut_at_deadline: bool = False


ROWS = {
    "302 is not followed": Row("http://{host}/redirect-302", 200, ("bad_status", 302), ["/redirect-302"]),
    "307 is not followed": Row("http://{host}/redirect-307", 200, ("bad_status", 307), ["/redirect-307"]),
    "an answer of exactly 1 MiB is read": Row("http://{host}/exactly-1MiB", 200, None, ["/exactly-1MiB"]),
    "an answer over 1 MiB is cut": Row("http://{host}/1MiB-and-1", 200, ("invalid_response", 200), ["/1MiB-and-1"]),
    "a 500 with the callee's code": Row("http://{host}/500-with-code", 200, ("simulated_failure", 500),
                                        ["/500-with-code"]),
    "a 500 with JSON but no code": Row("http://{host}/500-json-without-code", 200, ("bad_status", 500),
                                       ["/500-json-without-code"]),
    "a 502 with an HTML page": Row("http://{host}/502-html", 200, ("bad_status", 502), ["/502-html"]),
    "a 503 with no body": Row("http://{host}/503-empty", 200, ("bad_status", 503), ["/503-empty"]),
    "a dripping body is cut at the deadline": Row("http://{host}/drip-body", 200, ("timeout", 200),
                                                  ["/drip-body"], cut_at_deadline=True),
    "a body stalled after its first byte is cut at the deadline": Row(
        "http://{host}/stall-body", 200, ("timeout", 200), ["/stall-body"], cut_at_deadline=True),
    "dripping headers are cut at the deadline": Row("http://{host}/drip-headers", 200, ("timeout", None),
                                                    ["/drip-headers"], cut_at_deadline=True),
    "a refused connection is unreachable": Row("http://127.0.0.1:9/", 200, ("unreachable", None), []),
    "a password that is a lone surrogate": Row("http://u:\\ud800@{host}/credentials", 400, None, []),
    "a password that is a percent-encoded euro sign": Row("http://u:%E2%82%AC@{host}/credentials", 400, None, []),
    "a user name alone": Row("http://user@{host}/credentials", 400, None, []),
    "an empty user info is no credential": Row("http://:@{host}/no-credentials", 200, None, ["/no-credentials"]),
}


def own_lines(log, offset: int, x_trace_id: str):
    """The request's lines once its `request completed` line is written (the
    last one: every service logs it after the handler's own lines)."""
    lines = [line for line in json_lines(log, offset) if line.get("x_trace_id") == x_trace_id]
    if not any(line.get("message") == "request completed" for line in lines):
        return NotYet(f"no 'request completed' line yet among {lines}")
    return lines


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_outbound_call_bounds(stack, service, row):
    stack.require_conformance_endpoint()
    log = stack.log_path(service)
    offset = log.stat().st_size
    x_trace_id = f"outbound-{secrets.token_hex(6)}"

    with MisbehavingTarget() as target:
        body = '[{"url": "%s", "arguments": []}]' % row.url.replace("{host}", target.host)
        started = time.monotonic()
        response = requests.post(f"{stack.service_urls[service]}/test", data=body.encode(),
                                 headers={"Content-Type": "application/json", "X-Trace-ID": x_trace_id},
                                 timeout=HOLD_FOR_S)
        elapsed = time.monotonic() - started
        received = target.received

    assert response.status_code == row.answer, response.text[:300]
    if row.answer == 400:
        assert response.json()["error"] == "invalid_body", response.text[:300]
    assert elapsed < DEADLINE_S + LATE_BY_S, f"the call took {elapsed:.2f} s, its deadline is {DEADLINE_S} s"
    if row.cut_at_deadline:
        assert elapsed >= DEADLINE_S, f"cut after {elapsed:.2f} s, before the {DEADLINE_S} s deadline"
    assert received == [(path, None) for path in row.received], "what the target got (path, Authorization)"
    lines = poll_until(lambda: own_lines(log, offset, x_trace_id), timeout=10,
                       describe=f"{service}'s lines of {x_trace_id}")
    failures = [(line.get("url"), line.get("error"), line.get("downstream_status"))
                for line in lines if line.get("message") == "conformance call failed"]
    called = row.url.replace("{host}", target.host)
    assert failures == ([] if row.outcome is None else [(called, *row.outcome)])

"""The W3C Trace Context rules for an incoming `traceparent`, checked the way
the W3C test harness checks them: send a header to POST /test, let the service
call a recording server, and read the traceparent it sent on.

Each row is one rule of the spec (Trace Context Level 1, "traceparent header"
and "tracestate header"): either the service continues the incoming trace, or
the header is invalid and the service starts a new one, dropping tracestate.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest

from tests.support import raw_http
from tests.support.recording_server import RecordingServer
from tools.native.stack import SERVICES

# The service under test calls a recording server on this machine.
pytestmark = pytest.mark.usefixtures("callbacks_reach_this_host")

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACESTATE = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"
OUTGOING = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@dataclass(frozen=True)
class Rule:
    traceparent: str
    continues: bool  # the outgoing call carries TRACE_ID (else a fresh trace id)
    sampled: bool | None = None  # expected sampled flag of the outgoing call, when it continues


RULES = {
    "valid, sampled": Rule(f"00-{TRACE_ID}-{PARENT_ID}-01", continues=True, sampled=True),
    "valid, not sampled: the decision is kept": Rule(f"00-{TRACE_ID}-{PARENT_ID}-00", continues=True, sampled=False),
    "the Level 2 random flag is accepted": Rule(f"00-{TRACE_ID}-{PARENT_ID}-03", continues=True, sampled=True),
    "a future version may add fields": Rule(f"cc-{TRACE_ID}-{PARENT_ID}-01-what-comes-next", continues=True,
                                            sampled=True),
    "version ff is forbidden": Rule(f"ff-{TRACE_ID}-{PARENT_ID}-01", continues=False),
    "version 00 has exactly four fields": Rule(f"00-{TRACE_ID}-{PARENT_ID}-01-extra", continues=False),
    "upper-case hex is invalid": Rule(f"00-{TRACE_ID.upper()}-{PARENT_ID}-01", continues=False),
    "all-zero trace id is invalid": Rule(f"00-{'0' * 32}-{PARENT_ID}-01", continues=False),
    "all-zero parent id is invalid": Rule(f"00-{TRACE_ID}-{'0' * 16}-01", continues=False),
    "trace id too short": Rule(f"00-{TRACE_ID[:-1]}-{PARENT_ID}-01", continues=False),
    "parent id too long": Rule(f"00-{TRACE_ID}-{PARENT_ID}0-01", continues=False),
    "wrong separator": Rule(f"00_{TRACE_ID}_{PARENT_ID}_01", continues=False),
    "not hex": Rule(f"00-{TRACE_ID[:-1]}g-{PARENT_ID}-01", continues=False),
    "empty": Rule("", continues=False),
}


def outgoing_headers(stack, service: str, traceparent: str) -> tuple[list[str], list[str]]:
    """The traceparent and tracestate lines of the one call POST /test made."""
    with RecordingServer() as far_end:
        response = raw_http.send(
            stack.service_urls[service], "POST", "/test",
            [("traceparent", traceparent), ("tracestate", TRACESTATE), ("Content-Type", "application/json")],
            body=json.dumps([{"url": far_end.url, "arguments": []}]).encode())
        calls = far_end.recorded()
    assert response.status == 200, response.body[:500]
    assert len(calls) == 1, f"{len(calls)} calls reached the recording server"
    return calls[0].header_values("traceparent"), calls[0].header_values("tracestate")


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("rule", RULES.values(), ids=RULES.keys())
def test_incoming_traceparent_rule(stack, service, rule):
    traceparents, tracestates = outgoing_headers(stack, service, rule.traceparent)

    assert len(traceparents) == 1, f"traceparent lines sent on: {traceparents}"
    match = OUTGOING.match(traceparents[0])
    assert match, f"malformed outgoing traceparent {traceparents[0]!r}"
    trace_id, parent_id, flags = match.groups()
    assert parent_id != PARENT_ID, "the service forwarded the incoming parent instead of its own span"
    if rule.continues:
        assert trace_id == TRACE_ID, f"sent {rule.traceparent!r}, the service went on with {traceparents[0]!r}"
        assert (int(flags, 16) & 1 == 1) == rule.sampled, f"sampled flag of {traceparents[0]!r}"
        assert [m.strip() for line in tracestates for m in line.split(",")] == TRACESTATE.split(","), (
            f"tracestate of a continued trace must pass on unchanged: {tracestates}")
    else:
        assert trace_id != TRACE_ID, f"invalid {rule.traceparent!r} was accepted"
        assert tracestates == [], f"tracestate of a rejected traceparent must be dropped: {tracestates}"

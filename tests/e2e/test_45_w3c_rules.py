"""The W3C Trace Context rules for an incoming `traceparent`, checked the way
the W3C test harness checks them: send a header to POST /test, let the service
call a recording server, and read the traceparent it sent on.

Each row is one rule of the spec (Trace Context Level 1, "traceparent header"
and "tracestate header"): either the service continues the incoming trace, or
the header is invalid and the service starts a new one, dropping tracestate.
Its answer's `traceresponse` names the trace and flags it sent on.
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
    flags: str | None = None  # expected flags byte exactly, when the rule is about the flags


RULES = {
    "valid, sampled": Rule(f"00-{TRACE_ID}-{PARENT_ID}-01", continues=True, sampled=True, flags="01"),
    # docs/contract.md, "Sampling decision": the caller's sampled flag is a
    # suggestion; every service records, and says so to its callee.
    "valid, not sampled: recorded anyway, and sent on as sampled": Rule(
        f"00-{TRACE_ID}-{PARENT_ID}-00", continues=True, sampled=True, flags="01"),
    "the Level 2 random flag is carried on (sampled)": Rule(f"00-{TRACE_ID}-{PARENT_ID}-03", continues=True,
                                                             sampled=True, flags="03"),
    "the Level 2 random flag is carried on (not sampled: recorded anyway)": Rule(
        f"00-{TRACE_ID}-{PARENT_ID}-02", continues=True, sampled=True, flags="03"),
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
    # docs/contract.md, "Duplicate / conflicting traceparent": a conflict is invalid too.
    "two different values in one line": Rule(f"00-{TRACE_ID}-{PARENT_ID}-01,00-{'1' * 32}-{'2' * 16}-01",
                                             continues=False),
}


def outgoing_headers(stack, service: str, traceparent: str,
                     tracestate_lines: tuple[str, ...] = (TRACESTATE,)) -> tuple[list[str], list[str], str]:
    """The traceparent and tracestate lines of the one call POST /test made, and the answer's traceresponse."""
    with RecordingServer() as far_end:
        response = raw_http.send(
            stack.service_urls[service], "POST", "/test",
            [("traceparent", traceparent), *[("tracestate", line) for line in tracestate_lines],
             ("Content-Type", "application/json")],
            body=json.dumps([{"url": far_end.url, "arguments": []}]).encode())
        calls = far_end.recorded()
    assert response.status == 200, response.body[:500]
    assert len(calls) == 1, f"{len(calls)} calls reached the recording server"
    return (calls[0].header_values("traceparent"), calls[0].header_values("tracestate"),
            response.header("traceresponse") or "")


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("rule", RULES.values(), ids=RULES.keys())
def test_incoming_traceparent_rule(stack, service, rule):
    traceparents, tracestates, traceresponse = outgoing_headers(stack, service, rule.traceparent)

    assert len(traceparents) == 1, f"traceparent lines sent on: {traceparents}"
    match = OUTGOING.match(traceparents[0])
    assert match, f"malformed outgoing traceparent {traceparents[0]!r}"
    trace_id, parent_id, flags = match.groups()
    assert parent_id != PARENT_ID, "the service forwarded the incoming parent instead of its own span"
    # docs/contract.md, "Sampling decision": traceresponse names the same trace
    # with the same flags (sampled, the random flag as it arrived).
    answered = OUTGOING.match(traceresponse)
    assert answered and (answered[1], answered[3]) == (trace_id, flags), (
        f"traceresponse {traceresponse!r} for an outgoing {traceparents[0]!r}")
    if rule.continues:
        assert trace_id == TRACE_ID, f"sent {rule.traceparent!r}, the service went on with {traceparents[0]!r}"
        assert (int(flags, 16) & 1 == 1) == rule.sampled, f"sampled flag of {traceparents[0]!r}"
        if rule.flags is not None:
            assert flags == rule.flags, f"sent flags {rule.flags}, the service went on with {traceparents[0]!r}"
        assert [m.strip() for line in tracestates for m in line.split(",")] == TRACESTATE.split(","), (
            f"tracestate of a continued trace must pass on unchanged: {tracestates}")
    else:
        assert trace_id != TRACE_ID, f"invalid {rule.traceparent!r} was accepted"
        assert tracestates == [], f"tracestate of a rejected traceparent must be dropped: {tracestates}"


# Trace Context Level 2, "tracestate header" (the spec's current key grammar:
# a lowercase letter or digit, then up to 255 of a-z 0-9 _ - * / @): a list of
# at most 32 members, each key=value. The whole header is discarded (never
# repaired) when any member breaks a rule, while the traceparent is still
# continued; a key seen again is a duplicate the service drops (the spec lets
# vendors discard duplicates), keeping the first.
KEY_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_-*/@"
KEPT = object()  # expected outgoing members: the incoming ones, unchanged
TRACESTATE_RULES = {
    "two vendors": (["congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"], KEPT),
    "lines are combined in order": (["congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7"], KEPT),
    "empty members and white space are ignored": (["congo=1, ,\trojo=2 ,"], KEPT),
    "multi-tenant key": (["tenant@vendor=v,other=1"], KEPT),
    "every character a key may hold": ([f"a{KEY_CHARS}=1"], KEPT),
    "a key may start with a digit": (["1congo=1"], KEPT),
    "at signs anywhere after the first character": (["foo@=1,foo@@bar=2,a@b@c=3"], KEPT),
    "key of 256 characters": (["k" * 256 + "=1"], KEPT),
    "key of 257 characters": (["k" * 257 + "=1"], []),
    "tenant of 241 and vendor of 14 characters": (["t" * 241 + "@" + "v" * 14 + "=1"], KEPT),
    "long tenant, short vendor": (["t" * 242 + "@v=1"], KEPT),
    "short tenant, long vendor": (["t@" + "v" * 15 + "=1"], KEPT),
    "key starting with @": (["@vendor=1,bar=2"], []),
    "upper-case key": (["Congo=1"], []),
    "key with an illegal character": (["con.go=1"], []),
    "key with a space before =": (["foo =1"], []),
    "32 members": ([",".join(f"k{i}=v" for i in range(32))], KEPT),
    "33 members": ([",".join(f"k{i}=v" for i in range(33))], []),
    "33 members over two lines": ([",".join(f"k{i}=v" for i in range(16)),
                                   ",".join(f"k{i}=v" for i in range(16, 33))], []),
    "duplicated key: the first is kept": (["congo=1,rojo=2,congo=3"], ["congo=1", "rojo=2"]),
    "duplicated key across lines": (["congo=1", "congo=2"], ["congo=1"]),
    "value of 256 characters": (["congo=" + "v" * 256], KEPT),
    "value of 257 characters": (["congo=" + "v" * 257], []),
    "value with every printable character allowed": (["congo=" + "".join(
        chr(c) for c in range(0x21, 0x7F) if chr(c) not in ",=")], KEPT),
    "value with an inner space": (["congo=a b"], KEPT),
    "empty value": (["congo=,bar=3"], []),
    "value with =": (["congo=a=b"], []),
    "value split by a comma": (['congo="a,b"'], []),
    "member without =": (["congo"], []),
    "one bad member spoils the list": (["congo=1,Rojo=2,sango=3"], []),
    "only empty lines and members": (["", " , ,\t"], KEPT),
    "32 members and empty ones": ([", ,".join(f"k{i}=v" for i in range(32))], KEPT),
    "33 members, one a duplicate key: counted as sent": ([",".join(f"k{i}=v" for i in range(32)) + ",k0=w"], []),
    "32 members, one a duplicate key": ([",".join(f"k{i}=v" for i in range(31)) + ",k0=w"],
                                        [f"k{i}=v" for i in range(31)]),
    "empty key": (["=1,bar=2"], []),
    "tenant and vendor may start with a digit": (["1tenant@2vendor=1"], KEPT),
    "value with a leading space": (["congo= a"], KEPT),
    "value with a tab inside": (["congo=a\tb"], []),
    "value with a non-ASCII character": (["congo=caf\u00e9"], []),
    "duplicated key, same value": (["congo=1,congo=1"], ["congo=1"]),
    "duplicated tenant@vendor key": (["t@v=1,rojo=2,t@v=3"], ["t@v=1", "rojo=2"]),
    "a duplicate does not excuse a bad member": (["congo=1,congo=2,Rojo=3"], []),
}


def members(lines: list[str]) -> list[str]:
    return [member.strip() for line in lines for member in line.split(",") if member.strip()]


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("lines, expected", TRACESTATE_RULES.values(), ids=TRACESTATE_RULES.keys())
def test_incoming_tracestate_rule(stack, service, lines, expected):
    traceparents, tracestates, _ = outgoing_headers(stack, service, f"00-{TRACE_ID}-{PARENT_ID}-01", tuple(lines))

    assert len(traceparents) == 1 and traceparents[0].startswith(f"00-{TRACE_ID}-"), (
        f"the valid traceparent must be continued whatever the tracestate: {traceparents}")
    expected = members(lines) if expected is KEPT else expected
    assert members(tracestates) == expected, (
        f"sent {lines}, expected {expected or 'the whole tracestate dropped'}, the service sent on {tracestates}")

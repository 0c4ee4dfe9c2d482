"""The W3C conformance endpoint POST /test (docs/contract.md), in each service:
the calls are made in order, each carries exactly one traceparent (its own
client span, the incoming trace id) and the incoming tracestate lines combined
in order; after a call that fails, the next one still goes out."""

from __future__ import annotations

import json
import re
import secrets

import pytest

from tests.support import raw_http
from tests.support.recording_server import RecordingServer
from tests.support.store_waits import wait_for_trace
from tests.support.trace_tree import effective_parent
from tools.native.stack import SERVICES

# The service under test calls a recording server on this machine.
pytestmark = pytest.mark.usefixtures("callbacks_reach_this_host")

CALLS = 3
# Two list-members in two lines, with an empty line between them that must be ignored.
TRACESTATE_LINES = ["congo=t61rcWkgMzE", "", "rojo=00f067aa0ba902b7"]
COMBINED_MEMBERS = ["congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7"]


def members(tracestate: str) -> list[str]:
    return [member.strip() for member in tracestate.split(",") if member.strip()]


@pytest.mark.parametrize("service", SERVICES)
def test_each_outbound_call_has_one_traceparent_and_its_own_client_span(stack, service):
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    with RecordingServer() as far_end:
        entries = [{"url": f"{far_end.url}/call-{i}", "arguments": [{"call": i}]} for i in range(CALLS)]
        response = raw_http.send(
            stack.service_urls[service], "POST", "/test",
            [("traceparent", f"00-{trace_id}-{parent_id}-01"),
             *[("tracestate", line) for line in TRACESTATE_LINES],
             ("Content-Type", "application/json")],
            body=json.dumps(entries).encode())
        calls = far_end.recorded()  # the service replies only after every call finished

    assert response.status == 200, response.body[:500]
    assert response.json() == []
    assert [call.path for call in calls] == [f"/call-{i}" for i in range(CALLS)], "not called in order"
    client_span_ids = []
    for call in calls:
        traceparents = call.header_values("traceparent")
        assert len(traceparents) == 1, f"{call.path} carried traceparent lines {traceparents}"
        match = re.fullmatch(r"00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]", traceparents[0])
        assert match and match.group(1) == trace_id, f"{call.path}: traceparent {traceparents[0]!r}"
        client_span_ids.append(match.group(2))
        tracestates = call.header_values("tracestate")
        assert [members(value) for value in tracestates] == [COMBINED_MEMBERS], (
            f"{call.path}: tracestate lines {tracestates}")
        index = int(call.path.rsplit("-", 1)[1])
        assert json.loads(call.body) == entries[index]["arguments"]
    assert len(set(client_span_ids)) == CALLS, f"parent ids are not distinct: {client_span_ids}"
    assert parent_id not in client_span_ids

    def all_client_spans(trace):
        return {s.span_id for s in trace.of_kind("CLIENT") if s.service == service} >= set(client_span_ids)

    trace = wait_for_trace(stack.store, trace_id, all_client_spans, timeout=stack.trace_timeout,
                           describe=f"{service}'s {CALLS} client spans")
    [server] = [s for s in trace.of_kind("SERVER") if s.service == service]
    assert server.parent_span_id == parent_id
    spans_by_id = {span.span_id: span for span in trace.spans}
    for span_id in client_span_ids:
        assert effective_parent(spans_by_id[span_id], spans_by_id) == server.span_id


@pytest.mark.parametrize("service", SERVICES)
def test_a_failed_call_does_not_stop_the_next(stack, service):
    """How the failed call is logged is test_57_outbound_bounds's row 'a refused connection is unreachable'."""
    with RecordingServer() as far_end:
        entries = [{"url": "http://127.0.0.1:9/", "arguments": []},  # nothing listens on the discard port
                   {"url": f"{far_end.url}/after", "arguments": []}]
        response = raw_http.send(stack.service_urls[service], "POST", "/test", [("Content-Type", "application/json")],
                                 body=json.dumps(entries).encode())
        calls = far_end.recorded()
    assert (response.status, response.json()) == (200, []), response.body[:300]
    assert [call.path for call in calls] == ["/after"]

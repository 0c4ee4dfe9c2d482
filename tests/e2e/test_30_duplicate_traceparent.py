"""Repeated traceparent headers, sent to each service directly (docs/contract.md,
"Duplicate / conflicting traceparent"): identical duplicates count as one;
conflicting ones start a new trace, are recorded as events on its root span
and logged as a WARN line. Sent as two header lines and as one comma-joined
line, byte for byte (tests/support/raw_http.py)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

import pytest

from tests.support import raw_http
from tests.support.logs import json_lines
from tests.support.polling import NotYet, poll_until
from tests.support.store_waits import has_span, wait_for_trace
from tools.native.stack import SERVICES

# One service's own input handling, through its direct URL: the same code in
# every run mode (CI runs it natively; tools/compose_check --ci leaves it out).
pytestmark = pytest.mark.service_input

REJECTED_EVENT = "app.traceparent.rejected"
REJECTED_VALUE = "app.traceparent.value"
REJECTED_COUNT = "app.traceparent.rejected_count"
WARN_MESSAGE = "rejected conflicting traceparent headers"
# docs/contract.md: at most this many events, each value cut to this length.
MAX_REJECTED_EVENTS = 8
MAX_REJECTED_VALUE = 256


@dataclass(frozen=True)
class Context:
    trace_id: str
    parent_id: str

    @property
    def header(self) -> str:
        return f"00-{self.trace_id}-{self.parent_id}-01"


def fresh() -> Context:
    return Context(secrets.token_hex(16), secrets.token_hex(8))


# How two values arrive: the shapes proxies and clients produce.
SHAPES = {
    "two-lines": lambda first, second: [first, second],
    "comma-joined": lambda first, second: [f"{first},{second}"],
    "comma and white space": lambda first, second: [f"{first} ,\t{second}"],
    "the first again, then both in one line": lambda first, second: [first, f"{first},{second}"],
}


def header_lines(shape: str, values: list[str]) -> list[tuple[str, str]]:
    if shape == "two-lines":
        return [("traceparent", value) for value in values]
    return [("traceparent", ",".join(values))]


def pair(shape: str, first: str, second: str) -> list[tuple[str, str]]:
    return [("traceparent", line) for line in SHAPES[shape](first, second)]


def get_process(stack, service: str, lines: list[tuple[str, str]]) -> tuple[dict, str]:
    x_trace_id = f"dup-{secrets.token_hex(6)}"
    response = raw_http.send(stack.service_urls[service], "GET", "/api/process",
                             [*lines, ("X-Trace-ID", x_trace_id)])
    assert response.status == 200, response.body[:500]
    return response.json(), x_trace_id


def server_span(stack, service: str, trace_id: str):
    trace = wait_for_trace(stack.store, trace_id, has_span(service, "SERVER"), timeout=stack.trace_timeout,
                           describe=f"{service}'s server span")
    [span] = [s for s in trace.of_kind("SERVER") if s.service == service]
    return span


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("service", SERVICES)
def test_identical_duplicates_keep_the_parent(stack, service, shape):
    context = fresh()
    body, _ = get_process(stack, service, pair(shape, context.header, context.header))
    assert body["otel_trace_id"] == context.trace_id
    assert server_span(stack, service, context.trace_id).parent_span_id == context.parent_id


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("service", SERVICES)
def test_conflicting_duplicates_start_a_new_trace(stack, service, shape):
    first, second = fresh(), fresh()
    body, x_trace_id = get_process(stack, service, pair(shape, first.header, second.header))
    new_trace_id = body["otel_trace_id"]
    assert new_trace_id not in (first.trace_id, second.trace_id), "a conflicting traceparent was followed"

    root = server_span(stack, service, new_trace_id)
    assert root.parent_span_id == "", f"the new trace's server span has parent {root.parent_span_id}"
    recorded = sorted(event.attributes.get(REJECTED_VALUE) for event in root.events_named(REJECTED_EVENT))
    assert recorded == sorted([first.header, second.header]), (
        f"{REJECTED_EVENT} events on the root span: {[e.attributes for e in root.events_named(REJECTED_EVENT)]}")

    assert root.attributes.get(REJECTED_COUNT) == 2, root.attributes
    line = warning_for(stack, service, x_trace_id, new_trace_id)
    assert (line.get("header"), line.get("rejected_count")) == ("traceparent", 2), line


@pytest.mark.parametrize("service", SERVICES)
def test_a_valid_and_a_malformed_value_conflict(stack, service):
    valid = fresh().header
    body, x_trace_id = get_process(stack, service, pair("two-lines", valid, "not-a-traceparent"))

    root = server_span(stack, service, body["otel_trace_id"])
    assert root.parent_span_id == "" and body["otel_trace_id"] != valid.split("-")[1]
    recorded = sorted(event.attributes.get(REJECTED_VALUE) for event in root.events_named(REJECTED_EVENT))
    assert recorded == sorted([valid, "not-a-traceparent"]), recorded
    assert root.attributes.get(REJECTED_COUNT) == 2, root.attributes


@pytest.mark.parametrize("service", SERVICES)
def test_one_malformed_value_is_no_conflict(stack, service):
    body, x_trace_id = get_process(stack, service, [("traceparent", "not-a-traceparent")])

    root = server_span(stack, service, body["otel_trace_id"])
    assert root.parent_span_id == ""
    assert (root.events_named(REJECTED_EVENT), root.attributes.get(REJECTED_COUNT)) == ([], None), root.attributes
    # The request's last line is written after any WARN of the same request.
    lines = request_lines(stack, service, x_trace_id)
    assert not [line for line in lines if line.get("message") == WARN_MESSAGE], lines


def request_lines(stack, service: str, x_trace_id: str) -> list[dict]:
    """Every log line of one request, once its `request completed` line is written."""
    log = stack.log_path(service)

    def completed():
        lines = [line for line in json_lines(log) if line.get("x_trace_id") == x_trace_id]
        if any(line.get("message") == "request completed" for line in lines):
            return lines
        return NotYet(f"no 'request completed' line for x_trace_id {x_trace_id} in {log}")

    return poll_until(completed, timeout=10, describe="the request's log lines")


def warning_for(stack, service: str, x_trace_id: str, trace_id: str) -> dict:
    """The rejection's WARN line of one request, once it is written."""
    log = stack.log_path(service)

    def warned():
        for line in json_lines(log):
            same_request = line.get("x_trace_id") == x_trace_id or line.get("trace_id") == trace_id
            if same_request and line.get("level") == "WARN" and line.get("message") == WARN_MESSAGE:
                return line
        return NotYet(f"no WARN {WARN_MESSAGE!r} line for x_trace_id {x_trace_id} in {log}")

    return poll_until(warned, timeout=10, describe="the rejection's WARN log line")


@pytest.mark.parametrize("shape", ["two-lines", "comma-joined"])
@pytest.mark.parametrize("service", SERVICES)
def test_rejected_values_are_bounded_in_count_and_length(stack, service, shape):
    # 12 long conflicting values, 7 KB in all: under every server's header limit.
    sent = [f"{fresh().header}-{'x' * 540}" for _ in range(12)]
    body, x_trace_id = get_process(stack, service, header_lines(shape, sent))

    root = server_span(stack, service, body["otel_trace_id"])
    recorded = [event.attributes.get(REJECTED_VALUE, "") for event in root.events_named(REJECTED_EVENT)]
    assert len(recorded) == MAX_REJECTED_EVENTS, f"{len(recorded)} {REJECTED_EVENT} events"
    assert all(value in {v[:MAX_REJECTED_VALUE] for v in sent} for value in recorded), (
        f"recorded values are not the sent ones cut to {MAX_REJECTED_VALUE}: {[len(v) for v in recorded]}")
    assert root.attributes.get(REJECTED_COUNT) == len(sent), root.attributes

    line = warning_for(stack, service, x_trace_id, body["otel_trace_id"])
    assert (line.get("header"), line.get("rejected_count")) == ("traceparent", len(sent)), line
    assert not any(value[:55] in json.dumps(line) for value in sent), f"a rejected value was logged: {line}"

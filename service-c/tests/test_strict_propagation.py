"""The strict trace-context propagator, on its own and as the service's global propagator."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.wsgi import wsgi_getter
from opentelemetry.trace import format_span_id, format_trace_id

from strict_propagation import StrictTraceContextPropagator, conflicting_traceparents, split_header_values
from tests.span_queries import only_server_span, trace_hex

TRACE_1 = "0af7651916cd43dd8448eb211c80319c"
TRACE_2 = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_1 = f"00-{TRACE_1}-b7ad6b7169203331-01"
PARENT_2 = f"00-{TRACE_2}-00f067aa0ba902b7-01"


def extracted(carrier: dict) -> tuple[str, str, str] | None:
    """(trace id, parent span id, tracestate) of what the propagator extracted, or None."""
    context = StrictTraceContextPropagator().extract(carrier)
    span_context = trace.get_current_span(context).get_span_context()
    if not span_context.is_valid:
        return None
    return (format_trace_id(span_context.trace_id), format_span_id(span_context.span_id),
            span_context.trace_state.to_header())


# Header lines as a list = several lines of the same header; a string = one line.
@pytest.mark.parametrize(("carrier", "expected"), [
    ({"traceparent": PARENT_1}, (TRACE_1, "b7ad6b7169203331", "")),
    ({"traceparent": [PARENT_1, PARENT_1]}, (TRACE_1, "b7ad6b7169203331", "")),
    ({"traceparent": f"{PARENT_1},{PARENT_1}"}, (TRACE_1, "b7ad6b7169203331", "")),
    ({"traceparent": f"{PARENT_1}, {PARENT_1}"}, (TRACE_1, "b7ad6b7169203331", "")),
    ({"traceparent": [PARENT_1, PARENT_2]}, None),
    ({"traceparent": f"{PARENT_1},{PARENT_2}"}, None),
    ({"traceparent": f"{PARENT_1}, {PARENT_2}"}, None),
    ({"traceparent": [PARENT_1, f"{PARENT_1},{PARENT_2}"]}, None),
    ({}, None),
    ({"traceparent": ""}, None),
    ({"traceparent": "00-not-a-traceparent-01"}, None),
    ({"traceparent": f"00-{'0' * 32}-b7ad6b7169203331-01"}, None),
    ({"traceparent": "x" * 10_000}, None),
    ({"traceparent": PARENT_1, "tracestate": "a=1"}, (TRACE_1, "b7ad6b7169203331", "a=1")),
    ({"traceparent": PARENT_1, "tracestate": ["a=1", "b=2"]}, (TRACE_1, "b7ad6b7169203331", "a=1,b=2")),
    ({"traceparent": PARENT_1, "tracestate": ["a=1", "", "b=2"]}, (TRACE_1, "b7ad6b7169203331", "a=1,b=2")),
    ({"traceparent": PARENT_1, "tracestate": ["", "a=1, ,b=2"]}, (TRACE_1, "b7ad6b7169203331", "a=1,b=2")),
    ({"traceparent": [PARENT_1, PARENT_2], "tracestate": "a=1"}, None),
])
def test_extract(carrier, expected):
    assert extracted(carrier) == expected


def test_extract_reads_joined_lines_from_a_wsgi_environ():
    environ = {"HTTP_TRACEPARENT": f"{PARENT_1},{PARENT_1}", "HTTP_TRACESTATE": "a=1,b=2"}
    context = StrictTraceContextPropagator().extract(environ, getter=wsgi_getter)
    assert format_trace_id(trace.get_current_span(context).get_span_context().trace_id) == TRACE_1


def test_inject_writes_one_traceparent():
    carrier: dict[str, str] = {}
    parent = StrictTraceContextPropagator().extract({"traceparent": PARENT_1, "tracestate": "a=1"})
    StrictTraceContextPropagator().inject(carrier, parent)
    assert carrier == {"traceparent": PARENT_1, "tracestate": "a=1"}


@pytest.mark.parametrize(("lines", "expected"), [
    (None, []),
    ([], []),
    ([PARENT_1], []),
    ([PARENT_1, PARENT_1], []),
    ([f" {PARENT_1} ,{PARENT_1}"], []),
    ([PARENT_1, PARENT_2], [PARENT_1, PARENT_2]),
    ([f"{PARENT_2}, {PARENT_1}", PARENT_2], [PARENT_2, PARENT_1]),
])
def test_conflicting_traceparents(lines, expected):
    assert conflicting_traceparents(lines) == expected


def test_split_header_values_drops_empty_members():
    assert split_header_values(["a=1,, b=2", "", " c=3 "]) == ["a=1", "b=2", "c=3"]


# Through the running app: the global propagator is the strict one.

def test_identical_duplicates_keep_the_parent(client, spans):
    client.get("/health", headers=[("traceparent", PARENT_1), ("traceparent", PARENT_1)])
    server = only_server_span(spans)
    assert trace_hex(server) == TRACE_1
    assert format_span_id(server.parent.span_id) == "b7ad6b7169203331"
    assert not [e for e in server.events if e.name == "app.traceparent.rejected"]


@pytest.mark.parametrize("headers", [
    [("traceparent", PARENT_1), ("traceparent", PARENT_2)],
    [("traceparent", f"{PARENT_1},{PARENT_2}")],
])
def test_conflicting_values_start_a_new_trace_and_are_reported(client, spans, log_lines, headers):
    response = client.get("/health", headers=headers)
    assert response.status_code == 200
    server = only_server_span(spans)
    assert server.parent is None
    assert trace_hex(server) not in (TRACE_1, TRACE_2)
    rejected = [e.attributes["app.traceparent.value"] for e in server.events if e.name == "app.traceparent.rejected"]
    assert rejected == [PARENT_1, PARENT_2]
    warnings = [line for line in log_lines() if line["message"] == "rejected conflicting traceparent headers"]
    assert len(warnings) == 1
    assert warnings[0]["level"] == "WARN"
    assert warnings[0]["header"] == "traceparent"
    assert warnings[0]["trace_id"] == trace_hex(server)

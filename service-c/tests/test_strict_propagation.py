"""The strict trace-context propagator on its own."""

from __future__ import annotations

import tracemalloc

import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.wsgi import wsgi_getter
from opentelemetry.trace import format_span_id, format_trace_id

from app.telemetry.strict_propagation import StrictTraceContextPropagator, conflicting_traceparents, split_header_values

TRACE_1 = "0af7651916cd43dd8448eb211c80319c"
TRACE_2 = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_1 = f"00-{TRACE_1}-b7ad6b7169203331-01"
PARENT_2 = f"00-{TRACE_2}-00f067aa0ba902b7-01"


def extracted(carrier: dict) -> tuple[str, str, str] | None:
    """(trace id, parent span id, tracestate sent on) of what the propagator extracted, or None."""
    propagator = StrictTraceContextPropagator()
    context = propagator.extract(carrier)
    span_context = trace.get_current_span(context).get_span_context()
    if not span_context.is_valid:
        return None
    outgoing: dict[str, str] = {}
    propagator.inject(outgoing, context)  # what the next call carries is what counts
    return (format_trace_id(span_context.trace_id), format_span_id(span_context.span_id),
            outgoing.get("tracestate", ""))


# The contract's rows run against every service in tests/e2e/test_45_w3c_rules.py
# and test_30_duplicate_traceparent.py; these are what HTTP cannot send or show.
def test_no_traceparent_no_parent():
    assert extracted({}) is None


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


def test_a_control_character_in_a_tracestate_value_drops_it():
    # gunicorn refuses one in a header, so only this test sees the value rule refuse it.
    assert extracted({"traceparent": PARENT_1, "tracestate": ["foo=a\x7fb"]}) == (TRACE_1, "b7ad6b7169203331", "")


def test_a_huge_tracestate_is_read_only_up_to_the_member_limit():
    # gunicorn lets 100 header lines of 16 KiB through: 400k members here. The
    # list is refused after its 33rd member; splitting it all first took 26 MiB.
    carrier = {"traceparent": PARENT_1, "tracestate": ",".join(["a=1"] * 400_000)}
    tracemalloc.start()
    try:
        found = extracted(carrier)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found == (TRACE_1, "b7ad6b7169203331", "")
    assert peak < 256 * 1024, f"reading the tracestate took {peak} bytes"

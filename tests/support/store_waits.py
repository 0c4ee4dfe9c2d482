"""Waiting for telemetry to reach the trace store (always by polling)."""

from __future__ import annotations

from typing import Callable

from tests.stores import TraceStore
from tests.stores.model import Trace
from tests.support.polling import NotYet, poll_until
from tests.support.trace_tree import dangling_parents

SEARCH_TIMEOUT = 30.0


def wait_for_trace(store: TraceStore, trace_id: str, ready: Callable[[Trace], object], *,
                   timeout: float, describe: str) -> Trace:
    """Poll the store until the trace exists and `ready(trace)` is truthy.
    `ready` may return a NotYet explaining what is still missing."""

    def attempt():
        trace = store.get_trace(trace_id)
        if trace is None:
            return NotYet(f"store does not know trace {trace_id} yet")
        verdict = ready(trace)
        if verdict:
            return trace
        return verdict if isinstance(verdict, NotYet) else NotYet(f"not ready: {trace.summary()}")

    return poll_until(attempt, timeout=timeout, interval=0.25, describe=f"{describe} ({store.trace_link(trace_id)})")


def has_span(service: str, kind: str) -> Callable[[Trace], object]:
    def ready(trace: Trace):
        if any(s.service == service and s.kind == kind for s in trace.spans):
            return True
        return NotYet(f"no {service} {kind} span yet in {trace.summary()}")
    return ready


def complete(expected_hops: int, remote_parent: str = "") -> Callable[[Trace], object]:
    """The suite's rule for a complete trace: at least the scenario's number of
    SERVER/CLIENT spans, and no span whose parent has not reached the store.
    `remote_parent`: the span id of the client's traceparent, the one parent
    that never reaches the store (the client is not traced here)."""
    def ready(trace: Trace):
        hops = trace.of_kind("SERVER", "CLIENT")
        dangling = [span for span in dangling_parents(trace) if span.parent_span_id != remote_parent]
        if len(hops) >= expected_hops and not dangling:
            return True
        return NotYet(f"{len(hops)} of {expected_hops} SERVER/CLIENT spans, "
                      f"{len(dangling)} span(s) with a parent not in the store; {trace.summary()}")
    return ready


def wait_for_search(store: TraceStore, x_trace_id: str, since: float, timeout: float = SEARCH_TIMEOUT) -> list[str]:
    """Poll the store's search by X-Trace-ID until it finds something; returns what it found."""
    return poll_until(
        lambda: store.find_traces_by_x_trace_id(x_trace_id, since) or NotYet("search finds no trace yet"),
        timeout=timeout, interval=0.5, describe=f"a trace with app.x_trace_id={x_trace_id!r} in the store's search",
    )

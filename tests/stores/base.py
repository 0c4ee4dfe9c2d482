"""What the tests need from a trace store, whichever one it is."""

from __future__ import annotations

from typing import Protocol

from .model import Trace

# The span attribute every service sets to the request's X-Trace-ID.
X_TRACE_ID_ATTRIBUTE = "app.x_trace_id"


class StoreError(RuntimeError):
    """The store answered in a way no client can interpret (not a missing trace)."""


class TraceStore(Protocol):
    base_url: str

    def get_trace(self, otel_trace_id: str) -> Trace | None:
        """The trace with this 32-hex id, or None while the store does not know it."""

    def find_traces_by_x_trace_id(self, x_trace_id: str, since: float) -> list[str]:
        """32-hex ids of traces with a span whose app.x_trace_id is x_trace_id,
        started at or after `since` (seconds since the epoch)."""

    def trace_link(self, otel_trace_id: str) -> str:
        """Where a person would look at this trace (for assertion messages)."""


def full_trace_id(search_id: str) -> str:
    """Search APIs print ids as numbers, dropping leading zeros; put them back."""
    return search_id.lower().zfill(32)

"""Server spans still open when a worker stops get ended, so they are exported.

gunicorn gives in-flight requests graceful_timeout to finish; a request that
takes longer is abandoned when the worker exits, and its server span, never
ended, was never exported: the trace lost its service-c part. stop() ends
such spans, marked as interrupted, before the final flush.
"""

from __future__ import annotations

import threading

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

INTERRUPTED_ATTRIBUTE = "app.shutdown.interrupted"
INTERRUPTED_DESCRIPTION = "worker stopped before the request finished"


class OpenServerSpans(SpanProcessor):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # By span id: on_end receives a ReadableSpan copy, not the Span itself.
        self._open: dict[tuple[int, int], Span] = {}

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if span.kind is SpanKind.SERVER:
            with self._lock:
                self._open[_key(span)] = span

    def on_end(self, span: ReadableSpan) -> None:
        with self._lock:
            self._open.pop(_key(span), None)

    def end_all(self) -> int:
        """End every server span still open; returns how many."""
        with self._lock:
            spans, self._open = list(self._open.values()), {}
        for span in spans:
            span.set_attribute(INTERRUPTED_ATTRIBUTE, True)
            span.set_status(Status(StatusCode.ERROR, INTERRUPTED_DESCRIPTION))
            span.end()
        return len(spans)

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _key(span: ReadableSpan) -> tuple[int, int]:
    return span.context.trace_id, span.context.span_id

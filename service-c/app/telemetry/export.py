"""Span export that outlasts a Collector outage, and says so in three lines.

Why: the SDK's batch processor hands each batch to the exporter once. The
OTLP/HTTP exporter retries a refused connection only within
OTEL_EXPORTER_OTLP_TIMEOUT (10 s) and then the batch is gone; meanwhile the
processor's queue is a deque that evicts its *oldest* span when full
(OTEL_BSP_MAX_QUEUE_SIZE, 2048 by default). So an outage kept only its last
~14 s of spans, and every attempt logged a warning.

RetryingSpanExporter keeps the batch and tries again with backoff until
OTEL_BSP_EXPORT_TIMEOUT (which the Python processor reads but does not use)
has passed since the batch was handed over. The processor's worker thread
waits meanwhile, so new spans collect in its queue, which is the memory bound.
ExportHealth writes the same three lines as service-a and service-b
(docs/contract.md): failing, still failing (every 30 s), recovered.

Only a failure that a retry can cure is retried. A batch that fails the same
way every time (the exporter cannot encode it, or the Collector answers 400)
is dropped at once in one line: retried, it held up every span queued behind
it until the deadline.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

MSG_FAILING = "span export failing"
MSG_STILL_FAILING = "span export still failing"
MSG_RECOVERED = "span export recovered"
# One line per batch no retry can deliver.
MSG_BATCH_DROPPED = "span batch dropped"

SUMMARY_EVERY_S = 30.0
# Backoff between attempts; the exporter itself also retries within each
# attempt (up to OTEL_EXPORTER_OTLP_TIMEOUT), so the cap stays short.
INITIAL_BACKOFF_S = 0.5
MAX_BACKOFF_S = 5.0
DEFAULT_EXPORT_TIMEOUT_MS = 30_000  # the specification's OTEL_BSP_EXPORT_TIMEOUT default

# The OTLP/HTTP exporter's logger: one warning per attempt and one error per
# lost batch. ExportHealth says the same once per failure period.
EXPORTER_LOGGER = "opentelemetry.exporter.otlp.proto.http.trace_exporter"

_log = logging.getLogger("telemetry")


class ExportHealth:
    """Turns export outcomes into the three lines, never one per attempt."""

    def __init__(self, logger: logging.Logger = _log, clock: Callable[[], float] = time.monotonic,
                 summary_every_s: float = SUMMARY_EVERY_S) -> None:
        self._logger = logger
        self._clock = clock
        self._summary_every_s = summary_every_s
        self._lock = threading.Lock()
        self._failing_since: float | None = None
        self._last_report = 0.0
        self._failed_attempts = 0
        self._spans_dropped = 0
        self.last_error = ""
        self._undeliverable_spans = 0  # since the process started

    def failed(self, error: str) -> None:
        with self._lock:
            now = self._clock()
            self._failed_attempts += 1
            self.last_error = error or self.last_error
            if self._failing_since is None:
                self._failing_since = self._last_report = now
                self._emit(logging.WARNING, MSG_FAILING, now)
            elif now - self._last_report >= self._summary_every_s:
                self._last_report = now
                self._emit(logging.WARNING, MSG_STILL_FAILING, now)

    def dropped(self, spans: int) -> None:
        with self._lock:
            self._spans_dropped += spans

    def undeliverable(self, error: str, spans: int) -> None:
        """A batch dropped without retrying; the outage lines are left alone (the next batch may go through)."""
        with self._lock:
            self._undeliverable_spans += spans
            self._logger.error(MSG_BATCH_DROPPED, extra={
                "error": error,
                "spans_dropped": spans,
                "spans_dropped_total": self._undeliverable_spans,
            })

    def succeeded(self) -> None:
        with self._lock:
            if self._failing_since is None:
                return
            self._emit(logging.INFO, MSG_RECOVERED, self._clock())
            self._failing_since, self._failed_attempts, self._spans_dropped, self.last_error = None, 0, 0, ""

    def _emit(self, level: int, message: str, now: float) -> None:
        self._logger.log(level, message, extra={
            "error": self.last_error,
            "failed_attempts": self._failed_attempts,
            "spans_dropped": self._spans_dropped,
            "failing_for_ms": round((now - self._failing_since) * 1000),
        })


class _ExporterLogCapture(logging.Filter):
    """Keeps the exporter's per-attempt lines out of the log; the cause they
    name becomes the `error` field of ExportHealth's lines instead. Its lines
    are also the only place where it says whether a retry could help: the
    export itself returns just FAILURE."""

    TRANSIENT = "Transient error %s"  # the start of its per-retry warning; args[0] is the cause
    GIVING_UP = "Failed to export %s batch due to timeout"  # names no cause: keep the last one
    # A batch that fails the same way every time: it cannot be encoded, it is
    # over max_request_size, or the receiver answered with a status the OTLP
    # specification does not retry (args[1]; None when no answer came).
    CANNOT_ENCODE = "Failed to encode span batch"
    TOO_LARGE = "Dropping span batch"
    NOT_RETRIED = "Failed to export %s batch code: %s"

    def __init__(self) -> None:
        super().__init__()
        self.last_message = ""
        self.undeliverable = False  # what the last line said of the batch

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        template = str(record.msg)
        if template.startswith(self.TRANSIENT) and record.args:
            self.last_message = str(record.args[0])
        elif not template.startswith(self.GIVING_UP) or not self.last_message:
            self.last_message = record.getMessage()
        answered = template.startswith(self.NOT_RETRIED) and len(record.args) > 1 and record.args[1] is not None
        self.undeliverable = answered or template.startswith((self.CANNOT_ENCODE, self.TOO_LARGE))
        return False


# One filter for the process (a logger stops at the first filter that rejects
# a record, so a filter per exporter would starve all but the first).
_capture = _ExporterLogCapture()
logging.getLogger(EXPORTER_LOGGER).addFilter(_capture)


class RetryingSpanExporter(SpanExporter):
    def __init__(self, exporter: SpanExporter, health: ExportHealth | None = None,
                 export_timeout_s: float | None = None,
                 initial_backoff_s: float = INITIAL_BACKOFF_S, max_backoff_s: float = MAX_BACKOFF_S) -> None:
        self._exporter = exporter
        self._health = health or ExportHealth()
        self._export_timeout_s = export_timeout_s if export_timeout_s is not None else _export_timeout_from_env()
        self._initial_backoff_s = initial_backoff_s
        self._max_backoff_s = max_backoff_s
        self._shutdown = threading.Event()
        self._capture = _capture

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        deadline = time.monotonic() + self._export_timeout_s
        backoff = self._initial_backoff_s
        while True:
            self._capture.undeliverable = False
            try:
                result = self._exporter.export(spans)
            except Exception as error:  # noqa: BLE001 - an exporter bug must not kill the processor's thread
                # It raised on this batch and would again.
                self._health.undeliverable(repr(error), len(spans))
                return SpanExportResult.FAILURE
            if result is SpanExportResult.SUCCESS:
                self._health.succeeded()
                return result
            if self._capture.undeliverable:
                self._health.undeliverable(self._capture.last_message, len(spans))
                return SpanExportResult.FAILURE
            self._health.failed(self._capture.last_message)
            if time.monotonic() + backoff > deadline or self._shutdown.wait(backoff):
                self._health.dropped(len(spans))
                return SpanExportResult.FAILURE
            backoff = min(backoff * 2, self._max_backoff_s)

    def shutdown(self) -> None:
        self._shutdown.set()
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._exporter.force_flush(timeout_millis)


def _export_timeout_from_env() -> float:
    raw = os.environ.get("OTEL_BSP_EXPORT_TIMEOUT", "").strip()
    try:
        millis = float(raw) if raw else DEFAULT_EXPORT_TIMEOUT_MS
    except ValueError:
        _log.warning("ignoring invalid OTEL_BSP_EXPORT_TIMEOUT %r", raw)
        millis = DEFAULT_EXPORT_TIMEOUT_MS
    return max(millis, 0.0) / 1000

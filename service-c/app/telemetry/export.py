"""Span export: every string made encodable, then retried through a Collector outage.

ValidUtf8SpanExporter: a Python str can hold lone surrogates, and UTF-8
cannot encode them. JSON decodes the escape "\\ud800" to one, and
surrogateescape (os.environ, file names) turns each byte it could not decode
into one. The OTLP exporter then fails to encode the whole batch ("surrogates
not allowed"), or drops the attribute with an error line. Each is replaced
with U+FFFD in every string the encoder reads. WSGI hands paths and headers
over as latin1 text, which always encodes (User-Agent bytes ff fe become "ÿþ").

RetryingSpanExporter: the SDK's batch processor hands each batch to the
exporter once. The OTLP/HTTP exporter retries a refused connection only
within OTEL_EXPORTER_OTLP_TIMEOUT (10 s) and then the batch is gone; meanwhile
the processor's queue is a deque that evicts its *oldest* span when full
(OTEL_BSP_MAX_QUEUE_SIZE, 2048 by default). So an outage kept only its last
~14 s of spans, and every attempt logged a warning.

It keeps the batch and tries again with backoff until
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
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Link, Status
from opentelemetry.util.types import AnyValue, Attributes

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


# The only code points a str can hold that UTF-8 cannot encode.
_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_utf8(text: str) -> str:
    return _SURROGATE.sub("\ufffd", text)


class ValidUtf8SpanExporter(SpanExporter):
    """Hands `exporter` every span with encodable strings. It goes in front of
    the retrying exporter, so each batch is checked once, not per attempt."""

    def __init__(self, exporter: SpanExporter) -> None:
        self._exporter = exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._exporter.export([valid_utf8_span(span) for span in spans])

    def shutdown(self) -> None:
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._exporter.force_flush(timeout_millis)


def valid_utf8_span(span: ReadableSpan) -> ReadableSpan:
    """`span` itself when all its strings encode, else a copy with each surrogate replaced.

    A copy does not carry the dropped-attribute counts over.
    """
    if not any(_SURROGATE.search(text) for text in _strings(span)):
        return span
    return ReadableSpan(
        name=valid_utf8(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_valid_attributes(span.attributes),
        events=[Event(valid_utf8(event.name), _valid_attributes(event.attributes), event.timestamp)
                for event in span.events],
        links=[Link(link.context, _valid_attributes(link.attributes)) for link in span.links],
        kind=span.kind,
        status=Status(span.status.status_code, valid_utf8(span.status.description or "") or None),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _strings(span: ReadableSpan) -> Iterator[str]:
    yield span.name
    yield span.status.description or ""
    yield from _attribute_strings(span.attributes)
    for event in span.events:
        yield event.name
        yield from _attribute_strings(event.attributes)
    for link in span.links:
        yield from _attribute_strings(link.attributes)


def _attribute_strings(value: Attributes | AnyValue) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            yield key
            yield from _attribute_strings(inner)
    elif isinstance(value, Sequence) and not isinstance(value, bytes):
        for inner in value:
            yield from _attribute_strings(inner)


def _valid_attributes(attributes: Attributes) -> dict[str, AnyValue]:
    return {valid_utf8(key): _valid_value(value) for key, value in (attributes or {}).items()}


def _valid_value(value: AnyValue) -> AnyValue:
    if isinstance(value, str):
        return valid_utf8(value)
    if isinstance(value, Mapping):
        return _valid_attributes(value)
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        return tuple(_valid_value(inner) for inner in value)
    return value

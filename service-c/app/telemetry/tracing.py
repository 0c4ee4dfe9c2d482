"""The only place where service-c sets up OpenTelemetry, and stops it.

Everything is configured by the standard OTEL_* environment variables:
OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES (resource), OTEL_EXPORTER_OTLP_*
(endpoint, headers, timeout), OTEL_BSP_* (batching, queue, export deadline),
OTEL_TRACES_SAMPLER*, OTEL_TRACES_EXPORTER (otlp or none), OTEL_SDK_DISABLED.
Export (strings made encodable, retries through Collector outages): export.py.

Under gunicorn, `start()` runs in each worker after the fork (gunicorn.conf.py
post_fork) and `stop()` when the worker exits: the batch processor's export
thread and the HTTP connection pool must belong to the process that uses them.
stop() first ends the server spans of requests still in flight (OpenServerSpans).
"""

from __future__ import annotations

import logging
import os
import threading

from flask import Flask
from opentelemetry import trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.logging import LoggingInstrumentor
from opentelemetry.instrumentation.propagators import TraceResponsePropagator, set_global_response_propagator
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.propagate import set_global_textmap
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.semconv.attributes.url_attributes import URL_FULL
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.http import remove_url_credentials

from app.telemetry.export import RetryingSpanExporter, ValidUtf8SpanExporter
from app.telemetry.strict_propagation import StrictTraceContextPropagator

# How long a stopping worker waits for its last spans to be exported. With the
# Collector down the exporter retries for up to OTEL_BSP_EXPORT_TIMEOUT,
# which would outlast gunicorn's graceful_timeout and get the worker
# SIGKILLed; a bounded wait keeps the exit clean and says what was lost.
FLUSH_BUDGET_SECONDS = 3

INTERRUPTED_ATTRIBUTE = "app.shutdown.interrupted"
INTERRUPTED_DESCRIPTION = "worker stopped before the request finished"

_log = logging.getLogger("telemetry")


class OpenServerSpans(SpanProcessor):
    """The server spans still open. gunicorn abandons a request that outlasts
    graceful_timeout when the worker exits; its server span, never ended, was
    never exported and the trace lost its service-c part. stop() ends them."""

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
        """End every server span still open, marked as interrupted; returns how many."""
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


_provider: TracerProvider | None = None
_open_server_spans = OpenServerSpans()


def start(span_processor: SpanProcessor | None = None) -> TracerProvider:
    """Install the tracer provider, propagators and client/logging instrumentation.

    `span_processor` replaces the OTLP batch export (tests pass an in-memory one).
    """
    global _provider
    if _provider is not None:
        return _provider

    # Emit the stable HTTP semantic conventions (http.response.status_code,
    # http.route, error.type) instead of the legacy names this contrib
    # release still defaults to. An explicit value in the environment wins.
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")

    # No atexit shutdown: stop() owns it, with a time limit. An unbounded
    # atexit shutdown would wait out the exporter's retries all the same.
    provider = TracerProvider(resource=Resource.create(), shutdown_on_exit=False)
    provider.add_span_processor(_open_server_spans)
    processor = span_processor or _export_processor()
    if processor is not None:
        provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)

    set_global_textmap(CompositePropagator([StrictTraceContextPropagator(), W3CBaggagePropagator()]))
    # `traceresponse` (W3C Trace Context Level 2) on every response, written by
    # the Flask instrumentation from the server span.
    set_global_response_propagator(TraceResponsePropagator())

    RequestsInstrumentor().instrument(tracer_provider=provider, request_hook=_url_as_sent)
    # Only stamp trace ids on log records: no format change (app/logging_config.py
    # owns the format) and no OpenTelemetry log handler on the root logger,
    # which would export every line a second time as an OTLP log.
    LoggingInstrumentor().instrument(
        tracer_provider=provider,
        inject_trace_context=True,
        set_logging_format=False,
        enable_log_auto_instrumentation=False,
    )
    _provider = provider
    return provider


# Health checks are never traced (docs/contract.md, "Logs"): the probes poll
# them every few seconds and would flood the store. The instrumentation
# matches this against the request's URL, its path decoded: /health, any query.
HEALTH_CHECK_URL = r"^[a-z]+://[^/]+/health(\?|$)"


def _url_as_sent(span: trace.Span, request) -> None:
    """url.full as sent. The instrumentation re-encodes a query holding one of
    its four names (`sig`, `Signature`, ...), turning a `;` or `?` in a value
    into an escape that hides the credential after it from the Collector's
    redaction (docs/contract.md, "Secrets never stored")."""
    span.set_attribute(URL_FULL, remove_url_credentials(request.url))


def instrument_app(app: Flask) -> None:
    """Server spans for `app`. Called by create_app before the app adds its own hooks.

    The exclusion is an argument, not an OTEL_PYTHON_FLASK_EXCLUDED_URLS
    default: it is a contract rule, written in code as in the other two
    services, which no deployment setting may turn off in one of them."""
    FlaskInstrumentor.instrument_app(app, excluded_urls=HEALTH_CHECK_URL)


def stop() -> None:
    """Force-flush and shut down the tracer provider, waiting at most FLUSH_BUDGET_SECONDS."""
    global _provider
    provider, _provider = _provider, None
    if provider is None:
        return

    if interrupted := _open_server_spans.end_all():
        _log.warning("ended %d server spans of requests still in flight", interrupted, extra={"spans": interrupted})

    def flush_and_shutdown() -> None:
        provider.force_flush()
        provider.shutdown()

    worker = threading.Thread(target=flush_and_shutdown, name="otel-shutdown", daemon=True)
    worker.start()
    worker.join(FLUSH_BUDGET_SECONDS)
    if worker.is_alive():
        _log.warning("span export did not finish within %.0fs; unsent spans are dropped", FLUSH_BUDGET_SECONDS)


def _export_processor() -> SpanProcessor | None:
    """The batch OTLP export, or None when OTEL_SDK_DISABLED / OTEL_TRACES_EXPORTER=none
    turn it off (the SDK's provider then hands out no-op tracers, or records
    spans that go nowhere; propagation works either way)."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return None
    if exporter not in ("", "otlp"):
        _log.warning("only otlp and none are supported, exporting with otlp", extra={"OTEL_TRACES_EXPORTER": exporter})
    # Strings made encodable once per batch, then retried while a retry can help (export.py).
    return BatchSpanProcessor(ValidUtf8SpanExporter(RetryingSpanExporter(_otlp_exporter())))


def _otlp_exporter() -> OTLPSpanExporter:
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
    if protocol and protocol != "http/protobuf":
        _log.warning("OTLP protocol %r is not supported here; exporting with http/protobuf", protocol)
    return OTLPSpanExporter()

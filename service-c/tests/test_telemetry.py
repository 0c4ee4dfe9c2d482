"""The OpenTelemetry setup itself (app/telemetry/tracing.py)."""

from __future__ import annotations

import logging
import threading
import time

from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app.telemetry import tracing
from app.telemetry.strict_propagation import StrictTraceContextPropagator


def test_global_propagator_is_the_strict_one(span_exporter):
    assert any(isinstance(p, StrictTraceContextPropagator) for p in propagate.get_global_textmap()._propagators)


def test_provider_is_the_sdk_one_with_the_service_name(span_exporter):
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    assert provider.resource.attributes["service.name"] == "service-c"


def test_start_is_idempotent(span_exporter):
    assert tracing.start() is trace.get_tracer_provider()


def test_logging_instrumentation_adds_no_handler(span_exporter):
    """Only trace ids on records: no OpenTelemetry log handler duplicating every line."""
    handlers = logging.getLogger().handlers
    assert not [h for h in handlers if type(h).__module__.startswith("opentelemetry")]


def test_records_carry_the_current_span_ids(span_exporter):
    captured = []

    class Capture(logging.Handler):
        def emit(self, record):
            captured.append(record)

    logger = logging.getLogger("test.telemetry")
    logger.addHandler(handler := Capture())
    try:
        with trace.get_tracer("test").start_as_current_span("work") as span:
            logger.warning("inside")
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)
    inside, outside = captured
    assert inside.otelTraceID == trace.format_trace_id(span.get_span_context().trace_id)
    assert inside.otelSpanID == trace.format_span_id(span.get_span_context().span_id)
    assert outside.otelTraceID == "0"


def test_stop_flushes_pending_spans(monkeypatch):
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=600_000))
    monkeypatch.setattr(tracing, "_provider", provider)
    provider.get_tracer("test").start_span("pending").end()
    assert exporter.get_finished_spans() == ()

    tracing.stop()

    assert [span.name for span in exporter.get_finished_spans()] == ["pending"]


def test_stop_gives_up_after_the_flush_budget(monkeypatch, caplog):
    release = threading.Event()

    class StuckExport(SpanProcessor):
        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return release.wait(10)

    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(StuckExport())
    monkeypatch.setattr(tracing, "_provider", provider)
    monkeypatch.setattr(tracing, "FLUSH_BUDGET_SECONDS", 0.2)

    started = time.monotonic()
    tracing.stop()
    elapsed = time.monotonic() - started
    release.set()

    assert elapsed < 5
    assert "span export did not finish" in caplog.text

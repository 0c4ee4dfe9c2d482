"""Span export through a Collector outage: kept, retried, and reported in three lines."""

from __future__ import annotations

import threading

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult

from app.telemetry import tracing
from app.telemetry.export import (
    MSG_BATCH_DROPPED,
    MSG_FAILING,
    MSG_RECOVERED,
    MSG_STILL_FAILING,
    ExportHealth,
    RetryingSpanExporter,
)
from tests.gunicorn_support import poll

HEALTH_FIELDS = {"error", "failed_attempts", "spans_dropped", "failing_for_ms"}


class ScriptedExporter:
    def __init__(self, failures: int) -> None:
        self.failures, self.calls, self.exported = failures, 0, 0

    def export(self, spans):
        self.calls += 1
        if self.calls <= self.failures:
            return SpanExportResult.FAILURE
        self.exported += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self):
        pass

    def force_flush(self, timeout_millis=30000):
        return True


def health_lines(lines):
    return [line for line in lines() if line["message"].startswith("span export")]


def warnings_and_errors(lines):
    return [line for line in lines() if line["level"] in ("WARN", "ERROR")]


# A retry would wait a minute: these tests end long before if none is made.
NEVER_RETRY_IN_TIME = {"export_timeout_s": 300, "initial_backoff_s": 60}


def ended_span(name="answered"):
    span = TracerProvider(shutdown_on_exit=False).get_tracer("test").start_span(name)
    span.end()
    return span


@pytest.mark.parametrize(("outage_s", "attempt_every_s", "expected"), [
    (0, 1, []),
    (2, 0.5, [MSG_FAILING, MSG_RECOVERED]),
    (29, 1, [MSG_FAILING, MSG_RECOVERED]),
    (70, 0.2, [MSG_FAILING, MSG_STILL_FAILING, MSG_STILL_FAILING, MSG_RECOVERED]),
])
def test_one_line_per_state_change_and_one_summary_per_period(log_lines, outage_s, attempt_every_s, expected):
    clock = [1000.0]
    health = ExportHealth(clock=lambda: clock[0])
    attempts = 0
    while attempts * attempt_every_s < outage_s:
        health.failed("connection refused")
        attempts += 1
        clock[0] += attempt_every_s
    health.succeeded()

    lines = health_lines(log_lines)
    assert [line["message"] for line in lines] == expected
    assert all(HEALTH_FIELDS <= set(line) for line in lines)
    if lines:
        assert lines[-1]["failed_attempts"] == attempts
        assert lines[-1]["failing_for_ms"] == pytest.approx(outage_s * 1000, abs=1)
        assert lines[-1]["level"] == "INFO" and lines[0]["level"] == "WARN"


@pytest.mark.parametrize(("failures", "export_timeout_s", "result", "dropped"), [
    (3, 30, SpanExportResult.SUCCESS, 0),  # kept until delivered
    (10**9, 0.05, SpanExportResult.FAILURE, 5),  # given up at the export deadline
])
def test_a_refused_batch_is_held_until_delivered_or_the_deadline(log_lines, failures, export_timeout_s, result,
                                                                 dropped):
    inner = ScriptedExporter(failures)
    health = ExportHealth()
    exporter = RetryingSpanExporter(inner, health, export_timeout_s=export_timeout_s, initial_backoff_s=0.001,
                                    max_backoff_s=0.005)
    assert exporter.export([object()] * 5) is result
    assert (inner.exported, inner.calls >= min(failures + 1, 2)) == (5 - dropped, True)
    health.succeeded()
    lines = health_lines(log_lines)
    assert [line["message"] for line in lines] == [MSG_FAILING, MSG_RECOVERED]
    assert lines[1]["spans_dropped"] == dropped
    assert lines[1]["failed_attempts"] == inner.calls - (not dropped)


def test_shutdown_ends_the_wait(log_lines):
    exporter = RetryingSpanExporter(ScriptedExporter(failures=10**9), export_timeout_s=600, initial_backoff_s=60)
    result = []
    thread = threading.Thread(target=lambda: result.append(exporter.export([object()])))
    thread.start()
    poll(lambda: health_lines(log_lines), 10, "the first failed attempt")
    exporter.shutdown()
    thread.join(10)
    assert result == [SpanExportResult.FAILURE]


def test_an_exporter_that_raises_is_not_retried(log_lines):
    class Raising(ScriptedExporter):
        def export(self, spans):
            self.calls += 1
            raise ValueError("cannot encode")

    inner = Raising(failures=0)
    assert RetryingSpanExporter(inner, **NEVER_RETRY_IN_TIME).export([object()] * 2) is SpanExportResult.FAILURE
    assert inner.calls == 1
    [line] = warnings_and_errors(log_lines)
    assert (line["message"], line["spans_dropped"], line["error"]) == (MSG_BATCH_DROPPED, 2, "ValueError('cannot encode')")


@pytest.mark.parametrize(("status", "retried"), [
    (400, False), (401, False), (403, False), (404, False), (413, False), (500, False), (501, False),
    (429, True), (502, True), (503, True), (504, True),
])
def test_only_what_the_specification_retries_is_sent_again(log_lines, otlp_receiver, status, retried):
    """The real exporter against a receiver that answers `status`, then 200. The OTLP
    specification ("Failures") retries 429, 502, 503 and 504 (the exporter does it itself,
    after about a second); any other answer drops the batch at once, in one line."""
    otlp_receiver.script.append(status)
    exporter = RetryingSpanExporter(OTLPSpanExporter(endpoint=otlp_receiver.url, timeout=10), **NEVER_RETRY_IN_TIME)
    result = exporter.export([ended_span()])
    if retried:
        assert (result, otlp_receiver.requests, len(otlp_receiver.spans())) == (SpanExportResult.SUCCESS, 2, 1)
        assert warnings_and_errors(log_lines) == []
        return
    assert (result, otlp_receiver.requests, len(otlp_receiver.spans())) == (SpanExportResult.FAILURE, 1, 0)
    [line] = warnings_and_errors(log_lines)
    assert (line["level"], line["message"], line["spans_dropped"], line["spans_dropped_total"]) == (
        "ERROR", MSG_BATCH_DROPPED, 1, 1)
    assert f"code: {status}" in line["error"]


def test_a_batch_that_cannot_be_encoded_is_dropped_at_once(log_lines, otlp_receiver):
    """The attack of issue 17 without the repair in front (ValidUtf8SpanExporter): a span name
    UTF-8 cannot encode. Its batch is dropped in one line, with the export deadline at
    5 minutes, and the spans ended after it reach the receiver."""
    exporter = RetryingSpanExporter(OTLPSpanExporter(endpoint=otlp_receiver.url, timeout=10), **NEVER_RETRY_IN_TIME)
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=10))
    tracer = provider.get_tracer("test")
    try:
        tracer.start_span(b"GET /api/\xff\xfe".decode("utf-8", "surrogateescape")).end()
        poll(lambda: warnings_and_errors(log_lines), 5, "the dropped batch")
        for _ in range(3):
            tracer.start_span("later request").end()
        poll(lambda: len(otlp_receiver.spans()) == 3, 5, "the later spans at the receiver")
    finally:
        provider.shutdown()
    [line] = warnings_and_errors(log_lines)
    assert (line["message"], line["spans_dropped"], line["spans_dropped_total"]) == (MSG_BATCH_DROPPED, 1, 1)
    assert "surrogates not allowed" in line["error"]
    assert otlp_receiver.requests == 1


@pytest.mark.parametrize(("env", "exports"), [
    ({}, True),
    ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
    ({"OTEL_TRACES_EXPORTER": "none"}, False),
    ({"OTEL_TRACES_EXPORTER": "zipkin"}, True),
    ({"OTEL_SDK_DISABLED": "true"}, False),
    ({"OTEL_SDK_DISABLED": "false", "OTEL_TRACES_EXPORTER": "none"}, False),
    ({"OTEL_SDK_DISABLED": "false"}, True),
])
def test_switches_decide_whether_spans_are_exported(monkeypatch, env, exports):
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    processor = tracing._export_processor()
    try:
        assert (processor is not None) == exports
    finally:
        if processor is not None:
            processor.shutdown()


def test_disabled_sdk_still_propagates(monkeypatch, span_exporter):
    """OTEL_SDK_DISABLED: no spans, but the caller's trace context goes on."""
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    provider = TracerProvider(shutdown_on_exit=False)
    incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with provider.get_tracer("test").start_as_current_span("request", context=extract({"traceparent": incoming})) as span:
        assert not span.is_recording()
        carrier: dict[str, str] = {}
        inject(carrier)
    assert carrier["traceparent"].split("-")[1] == "0af7651916cd43dd8448eb211c80319c"

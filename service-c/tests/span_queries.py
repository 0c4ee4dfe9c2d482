"""Small helpers to pick spans out of the in-memory exporter."""

from __future__ import annotations

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id


def of_kind(exporter: InMemorySpanExporter, kind: SpanKind) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.kind is kind]


def only_server_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    servers = of_kind(exporter, SpanKind.SERVER)
    assert len(servers) == 1, f"expected one server span, got {[s.name for s in servers]}"
    return servers[0]


def exception_events(span: ReadableSpan) -> list:
    return [event for event in span.events if event.name == "exception"]


def trace_hex(span: ReadableSpan) -> str:
    return format_trace_id(span.context.trace_id)


def span_hex(span: ReadableSpan) -> str:
    return format_span_id(span.context.span_id)

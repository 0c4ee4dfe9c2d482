"""What a request controls reaches the Collector as valid UTF-8 (issue 17)."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, StatusCode

from app.telemetry import tracing
from app.telemetry.export import ValidUtf8SpanExporter, valid_utf8_span

# Bytes that are not UTF-8 as surrogateescape hands them over, and a lone
# surrogate as JSON decodes "\ud800".
ESCAPED_BYTES = b"t\xc1\xa5st".decode("utf-8", "surrogateescape")
LONE_SURROGATE = "a\ud800b"


def export_with_the_production_chain(spans, otlp_receiver, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", otlp_receiver.url)
    processor = tracing._export_processor()
    for span in spans:
        processor.on_end(span)
    processor.force_flush()
    processor.shutdown()


def test_surrogates_anywhere_in_a_span_reach_the_receiver_as_replacement_characters(otlp_receiver, monkeypatch):
    span = TracerProvider(shutdown_on_exit=False).get_tracer("test").start_span(
        f"GET /service-c/{ESCAPED_BYTES}",
        attributes={"url.path": f"/service-c/{ESCAPED_BYTES}", "app.texts": ("ok", LONE_SURROGATE)},
        links=[Link(context=TracerProvider().get_tracer("t").start_span("linked").get_span_context(),
                    attributes={"app.link": LONE_SURROGATE})],
    )
    span.add_event(f"event {LONE_SURROGATE}", {f"app.key.{LONE_SURROGATE}": LONE_SURROGATE})
    span.set_status(StatusCode.ERROR, f"failed: {LONE_SURROGATE}")
    span.end()

    export_with_the_production_chain([span], otlp_receiver, monkeypatch)

    [received] = otlp_receiver.spans()
    assert received.name == "GET /service-c/t\ufffd\ufffdst"
    attributes = {kv.key: kv.value for kv in received.attributes}
    assert attributes["url.path"].string_value == "/service-c/t\ufffd\ufffdst"
    assert [v.string_value for v in attributes["app.texts"].array_value.values] == ["ok", "a\ufffdb"]
    [event] = received.events
    assert event.name == "event a\ufffdb"
    assert [(kv.key, kv.value.string_value) for kv in event.attributes] == [("app.key.a\ufffdb", "a\ufffdb")]
    assert received.links[0].attributes[0].value.string_value == "a\ufffdb"
    assert received.status.message == "failed: a\ufffdb"


def test_a_span_that_encodes_is_passed_on_as_it_is():
    span = TracerProvider(shutdown_on_exit=False).get_tracer("test").start_span("GET /api/process",
                                                                                attributes={"app.text": "héllo ✓"})
    span.end()
    assert valid_utf8_span(span) is span
    recorded = InMemorySpanExporter()
    assert ValidUtf8SpanExporter(recorded).export([span]) is SpanExportResult.SUCCESS
    assert recorded.get_finished_spans() == (span,)

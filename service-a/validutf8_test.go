package main

import (
	"context"
	"testing"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// TestEveryStringOfASpanIsMadeValid covers each string the OTLP encoder
// reads, including nested attribute values.
func TestEveryStringOfASpanIsMadeValid(t *testing.T) {
	const bad, fixed = "a\xc1\xa5b\xff", "a\uFFFDb\uFFFD"
	attributes := []attribute.KeyValue{
		attribute.String("app.string", bad),
		attribute.StringSlice("app.strings", []string{"ok", bad}),
		attribute.Slice("app.slice", attribute.StringValue(bad), attribute.IntValue(1)),
		attribute.Map("app.map", attribute.String("inner", bad)),
		attribute.String("app.key."+bad, "value"),
		attribute.Int("app.number", 7),
	}
	span := tracetest.SpanStub{
		Name:       bad,
		Attributes: attributes,
		Events:     []sdktrace.Event{{Name: bad, Attributes: attributes}},
		Links:      []sdktrace.Link{{SpanContext: trace.SpanContext{}, Attributes: attributes}},
		Status:     sdktrace.Status{Code: codes.Error, Description: bad},
	}.Snapshot()

	recorded := tracetest.NewInMemoryExporter()
	if err := (validUTF8Exporter{next: recorded}).ExportSpans(context.Background(), []sdktrace.ReadOnlySpan{span}); err != nil {
		t.Fatal(err)
	}
	got := recorded.GetSpans()[0]
	if got.Name != fixed || got.Status.Description != fixed || got.Events[0].Name != fixed {
		t.Errorf("name %q, status %q, event %q; want %q", got.Name, got.Status.Description, got.Events[0].Name, fixed)
	}
	for _, set := range [][]attribute.KeyValue{got.Attributes, got.Events[0].Attributes, got.Links[0].Attributes} {
		for _, kv := range set {
			if text := string(kv.Key) + kv.Value.Emit(); !utf8.ValidString(text) {
				t.Errorf("%s still invalid: %q", kv.Key, text)
			}
		}
		if set[0].Value.AsString() != fixed || set[1].Value.AsStringSlice()[1] != fixed ||
			set[2].Value.AsSlice()[0].AsString() != fixed || set[3].Value.AsMap()[0].Value.AsString() != fixed ||
			string(set[4].Key) != "app.key."+fixed || set[5].Value.AsInt64() != 7 {
			t.Errorf("attributes %v", set)
		}
	}
	if span.Name() != bad {
		t.Errorf("the original span was changed: %q", span.Name())
	}
}

// TestValidSpansPassUnchanged: the common case costs a scan, no copy.
func TestValidSpansPassUnchanged(t *testing.T) {
	span := endedSpan("GET /api/process", attribute.String("url.path", "/api/process"), attribute.String("app.text", "héllo ✓"))
	if _, changed := validUTF8Span(span); changed {
		t.Errorf("a valid span was replaced")
	}
}

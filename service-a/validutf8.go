package main

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Why this file exists: a Go string can hold any bytes, and a request puts
// many of them on spans (url.path decoded from %c1%a5, the User-Agent
// header, a rejected traceparent, error text). Protobuf refuses to marshal a
// string field that is not valid UTF-8, so one such span failed its whole
// batch, on every retry. validUTF8Exporter replaces every invalid byte
// sequence with U+FFFD in each string the OTLP encoder reads, whatever set
// it. Trace state needs nothing: the SDK admits printable ASCII only.

// validUTF8Exporter hands next every span with valid UTF-8 strings; it sits
// in front of the retrying exporter, so each batch is checked once.
type validUTF8Exporter struct {
	next sdktrace.SpanExporter
}

func (e validUTF8Exporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	var valid []sdktrace.ReadOnlySpan // copied on the first change only
	for i, span := range spans {
		fixed, changed := validUTF8Span(span)
		if !changed {
			continue
		}
		if valid == nil {
			valid = slices.Clone(spans)
		}
		valid[i] = fixed
	}
	if valid == nil {
		valid = spans
	}
	return e.next.ExportSpans(ctx, valid)
}

func (e validUTF8Exporter) Shutdown(ctx context.Context) error {
	return e.next.Shutdown(ctx)
}

// utf8Span is an ended span with its strings replaced, embedding the
// original for everything else: the SDK's read-only spans are immutable.
type utf8Span struct {
	sdktrace.ReadOnlySpan
	name       string
	attributes []attribute.KeyValue
	events     []sdktrace.Event
	links      []sdktrace.Link
	status     sdktrace.Status
}

func (s utf8Span) Name() string                     { return s.name }
func (s utf8Span) Attributes() []attribute.KeyValue { return s.attributes }
func (s utf8Span) Events() []sdktrace.Event         { return s.events }
func (s utf8Span) Links() []sdktrace.Link           { return s.links }
func (s utf8Span) Status() sdktrace.Status          { return s.status }

// validUTF8Span returns span itself when all its strings are valid UTF-8.
func validUTF8Span(span sdktrace.ReadOnlySpan) (sdktrace.ReadOnlySpan, bool) {
	name, nameChanged := validString(span.Name())
	attributes, attributesChanged := validKeyValues(span.Attributes())
	events, eventsChanged := validEvents(span.Events())
	links, linksChanged := validLinks(span.Links())
	status := span.Status()
	description, statusChanged := validString(status.Description)
	if !nameChanged && !attributesChanged && !eventsChanged && !linksChanged && !statusChanged {
		return span, false
	}
	status.Description = description
	return utf8Span{ReadOnlySpan: span, name: name, attributes: attributes, events: events, links: links, status: status}, true
}

func validString(s string) (string, bool) {
	if utf8.ValidString(s) {
		return s, false
	}
	return strings.ToValidUTF8(s, string(utf8.RuneError)), true
}

func invalidUTF8(s string) bool { return !utf8.ValidString(s) }

func validEvents(events []sdktrace.Event) ([]sdktrace.Event, bool) {
	var valid []sdktrace.Event // copied on the first change only
	for i, event := range events {
		name, nameChanged := validString(event.Name)
		attributes, attributesChanged := validKeyValues(event.Attributes)
		if !nameChanged && !attributesChanged {
			continue
		}
		if valid == nil {
			valid = slices.Clone(events)
		}
		valid[i].Name, valid[i].Attributes = name, attributes
	}
	if valid == nil {
		return events, false
	}
	return valid, true
}

func validLinks(links []sdktrace.Link) ([]sdktrace.Link, bool) {
	var valid []sdktrace.Link // copied on the first change only
	for i, link := range links {
		attributes, changed := validKeyValues(link.Attributes)
		if !changed {
			continue
		}
		if valid == nil {
			valid = slices.Clone(links)
		}
		valid[i].Attributes = attributes
	}
	if valid == nil {
		return links, false
	}
	return valid, true
}

func validKeyValues(kvs []attribute.KeyValue) ([]attribute.KeyValue, bool) {
	var valid []attribute.KeyValue // copied on the first change only
	for i, kv := range kvs {
		key, keyChanged := validString(string(kv.Key))
		value, valueChanged := validValue(kv.Value)
		if !keyChanged && !valueChanged {
			continue
		}
		if valid == nil {
			valid = slices.Clone(kvs)
		}
		valid[i] = attribute.KeyValue{Key: attribute.Key(key), Value: value}
	}
	if valid == nil {
		return kvs, false
	}
	return valid, true
}

// validValue covers every attribute type that holds strings, nested ones
// included.
func validValue(v attribute.Value) (attribute.Value, bool) {
	switch v.Type() {
	case attribute.STRING:
		if s, changed := validString(v.AsString()); changed {
			return attribute.StringValue(s), true
		}
	case attribute.STRINGSLICE:
		strs := v.AsStringSlice() // a copy
		if slices.ContainsFunc(strs, invalidUTF8) {
			for i, s := range strs {
				strs[i], _ = validString(s)
			}
			return attribute.StringSliceValue(strs), true
		}
	case attribute.SLICE:
		values, changed := v.AsSlice(), false // a copy
		for i, element := range values {
			var elementChanged bool
			values[i], elementChanged = validValue(element)
			changed = changed || elementChanged
		}
		if changed {
			return attribute.SliceValue(values...), true
		}
	case attribute.MAP:
		if kvs, changed := validKeyValues(v.AsMap()); changed {
			return attribute.MapValue(kvs...), true
		}
	}
	return v, false
}

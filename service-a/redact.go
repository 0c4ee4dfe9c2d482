package main

import (
	"net/url"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// credentialParams are the query parameters whose values never reach a span
// (docs/contract.md, "Secrets never stored"), lower-case: names match in
// any case.
var credentialParams = map[string]bool{
	"token": true, "access_token": true, "refresh_token": true, "id_token": true,
	"password": true, "passwd": true, "pwd": true, "secret": true, "client_secret": true,
	"api_key": true, "apikey": true, "key": true, "sig": true, "signature": true,
	"auth": true, "credential": true, "session": true,
}

const redacted = "REDACTED"

// urlAttributes are the span attributes that carry a URL or its query, in
// the current HTTP semantic conventions and the old ones. otelhttp writes
// url.full on client spans; otelgin writes only url.path today, and the
// other keys are here so an upgrade cannot start leaking.
var urlAttributes = map[attribute.Key]bool{
	"url.full": true, "url.query": true, "http.url": true, "http.target": true,
}

// redactingProcessor stands in front of the processor that exports spans
// and hands it each ended span with the credentials in its URL attributes
// replaced. It acts when the span ends because otelhttp sets url.full after
// starting the client span, and neither otelhttp nor otelgin has an option
// to shape that attribute. Every instrumentation of the process goes through
// it; the Collector's transform/redact processor is the safety net for all
// services, this one keeps the secret from ever leaving the process.
type redactingProcessor struct {
	sdktrace.SpanProcessor // the exporting processor: OnStart, Shutdown, ForceFlush pass through
}

func (p redactingProcessor) OnEnd(span sdktrace.ReadOnlySpan) {
	p.SpanProcessor.OnEnd(redactSpan(span))
}

// redactedSpan is an ended span with its attributes replaced; the SDK's
// read-only spans are immutable, embedding is how one is amended.
type redactedSpan struct {
	sdktrace.ReadOnlySpan
	attributes []attribute.KeyValue
}

func (s redactedSpan) Attributes() []attribute.KeyValue { return s.attributes }

func redactSpan(span sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan {
	original := span.Attributes()
	var clean []attribute.KeyValue // copied on the first change only
	for i, kv := range original {
		if !urlAttributes[kv.Key] || kv.Value.Type() != attribute.STRING {
			continue
		}
		value := kv.Value.AsString()
		redactedValue := redactURL(value)
		if kv.Key == "url.query" {
			redactedValue = redactQuery(value)
		}
		if redactedValue == value {
			continue
		}
		if clean == nil {
			clean = slices.Clone(original)
		}
		clean[i] = kv.Key.String(redactedValue)
	}
	if clean == nil {
		return span
	}
	return redactedSpan{ReadOnlySpan: span, attributes: clean}
}

// redactURL redacts the query string of a URL or request target, leaving
// everything else (and the order of the parameters) as it was.
func redactURL(raw string) string {
	start := strings.IndexByte(raw, '?')
	if start < 0 {
		return raw
	}
	query, fragment := raw[start+1:], ""
	if end := strings.IndexByte(query, '#'); end >= 0 {
		query, fragment = query[:end], query[end:]
	}
	return raw[:start+1] + redactQuery(query) + fragment
}

// redactQuery replaces the value of every credential parameter of a raw
// query string with REDACTED. It works on the raw text rather than through
// url.Values, which would reorder and re-encode what it does not touch, and
// splits on ";" as well as "&" because some servers accept either.
func redactQuery(query string) string {
	var out strings.Builder
	for query != "" {
		param, separator := query, ""
		if end := strings.IndexAny(query, "&;"); end >= 0 {
			param, separator = query[:end], query[end:end+1]
		}
		query = query[len(param)+len(separator):]
		out.WriteString(redactParam(param))
		out.WriteString(separator)
	}
	return out.String()
}

func redactParam(param string) string {
	name, _, hasValue := strings.Cut(param, "=")
	if !hasValue {
		return param
	}
	// A name spelled with escapes (%74oken) or "+" is still that name.
	if decoded, err := url.QueryUnescape(name); err == nil {
		name = decoded
	}
	if !credentialParams[strings.ToLower(name)] {
		return param
	}
	return param[:strings.IndexByte(param, '=')+1] + redacted
}

package main

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/propagation"
)

const (
	traceparentHeader = "traceparent"
	tracestateHeader  = "tracestate"
)

// strictTraceContext is the W3C TraceContext propagator with the one rule
// otel-go's own version skips: it reads only the first traceparent header
// line, so two conflicting lines would silently continue the first trace.
// Per W3C Trace Context, conflicting values are invalid input and the request
// must start a new trace; identical duplicates count as one.
//
// Injection is untouched: the standard propagator sets exactly one
// traceparent on outgoing requests.
type strictTraceContext struct {
	propagation.TraceContext
}

// newPropagator is the global propagator: strict trace context plus baggage.
func newPropagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(strictTraceContext{}, propagation.Baggage{})
}

// Extract continues the incoming trace only when the request carries exactly
// one distinct traceparent value.
func (s strictTraceContext) Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	parents := distinctHeaderValues(carrier, traceparentHeader)
	if len(parents) != 1 {
		return ctx
	}
	return s.TraceContext.Extract(ctx, propagation.MapCarrier{
		traceparentHeader: parents[0],
		tracestateHeader:  combinedTracestate(carrier),
	})
}

// rejectedTraceparents returns the values Extract refused because they
// conflict, or nil. The request middleware calls it to report the rejection,
// so the decision and its report cannot drift apart.
func rejectedTraceparents(carrier propagation.TextMapCarrier) []string {
	parents := distinctHeaderValues(carrier, traceparentHeader)
	if len(parents) < 2 {
		return nil
	}
	return parents
}

// distinctHeaderValues collects every value of a header: all header lines,
// each split on commas (proxies and Node/gunicorn join duplicate lines that
// way), trimmed, empty ones dropped, duplicates dropped, order kept.
//
// The values are attacker-controlled: a 64 KB header holds thousands of
// them, so duplicates are found through a set, not by rescanning the list.
func distinctHeaderValues(carrier propagation.TextMapCarrier, key string) []string {
	var distinct []string
	seen := map[string]bool{}
	for _, line := range headerLines(carrier, key) {
		for value := range strings.SplitSeq(line, ",") {
			value = strings.TrimSpace(value)
			if value != "" && !seen[value] {
				seen[value] = true
				distinct = append(distinct, value)
			}
		}
	}
	return distinct
}

// combinedTracestate joins all tracestate lines in order, skipping empty
// ones, as W3C Trace Context asks for repeated tracestate headers.
func combinedTracestate(carrier propagation.TextMapCarrier) string {
	var parts []string
	for _, line := range headerLines(carrier, tracestateHeader) {
		if line = strings.TrimSpace(line); line != "" {
			parts = append(parts, line)
		}
	}
	return strings.Join(parts, ",")
}

// headerLines returns every line of a header. propagation.HeaderCarrier (an
// http.Header) implements ValuesGetter; a carrier that does not has at most
// one value per key.
func headerLines(carrier propagation.TextMapCarrier, key string) []string {
	if multi, ok := carrier.(propagation.ValuesGetter); ok {
		return multi.Values(key)
	}
	if value := carrier.Get(key); value != "" {
		return []string{value}
	}
	return nil
}

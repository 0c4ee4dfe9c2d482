package main

import (
	"context"
	"regexp"
	"strings"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
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
// Injection is the standard propagator's (exactly one traceparent), with one
// addition for tracestate: see Inject.
type strictTraceContext struct {
	propagation.TraceContext
}

// newPropagator is the global propagator: strict trace context plus baggage.
func newPropagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(strictTraceContext{}, propagation.Baggage{})
}

// Extract continues the incoming trace only when the request carries exactly
// one distinct traceparent value, and carries its tracestate only when the
// whole combined list is valid: a broken tracestate is dropped, never
// repaired, and never costs the traceparent.
func (s strictTraceContext) Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	parents := distinctHeaderValues(carrier, traceparentHeader)
	if len(parents) != 1 {
		return ctx
	}
	tracestate, _ := validTracestate(combinedTracestate(carrier))
	ctx = s.TraceContext.Extract(ctx, propagation.MapCarrier{
		traceparentHeader: parents[0],
		tracestateHeader:  tracestate,
	})
	remote := trace.SpanContextFromContext(ctx)
	if remote.IsValid() && tracestate != "" && remote.TraceState().Len() == 0 {
		ctx = context.WithValue(ctx, incomingTracestateKey{}, incomingTracestate{remote.TraceID(), tracestate})
	}
	return ctx
}

// otel-go's TraceState still parses keys by the grammar Trace Context had
// before "@" became an ordinary key character, so it refuses a list the spec
// (and docs/contract.md) accept, such as "foo@=1". Such a list is kept here,
// already validated, and passed on unchanged by Inject.
type incomingTracestateKey struct{}

type incomingTracestate struct {
	traceID trace.TraceID
	list    string
}

// Inject writes what the standard propagator writes, plus the incoming
// tracestate that otel-go could not hold, on calls made within the same
// trace.
func (s strictTraceContext) Inject(ctx context.Context, carrier propagation.TextMapCarrier) {
	s.TraceContext.Inject(ctx, carrier)
	current := trace.SpanContextFromContext(ctx)
	incoming, ok := ctx.Value(incomingTracestateKey{}).(incomingTracestate)
	if ok && current.IsValid() && current.TraceID() == incoming.traceID && current.TraceState().Len() == 0 {
		carrier.Set(tracestateHeader, incoming.list)
	}
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

// The tracestate grammar of docs/contract.md ("tracestate"), the spec's
// current one: a lowercase letter or digit, then up to 255 of a-z 0-9 _ - * / @.
var (
	tracestateKey = regexp.MustCompile(`^[a-z0-9][a-z0-9_\-*/@]{0,255}$`)
	// 0x20-0x7E except "," and "=", at most 256, the last one not a space.
	tracestateValue = regexp.MustCompile(`^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$`)
)

// maxTracestateMembers is Trace Context's limit on list members.
const maxTracestateMembers = 32

// validTracestate checks a combined tracestate list as a whole
// (docs/contract.md, "tracestate"): members trimmed of optional white space,
// empty ones ignored, at most 32, each key=value by the grammar; a key seen
// again is a duplicate and only its first member is kept. It returns the
// list without its empty members and duplicates, or false when any rule
// fails; the caller then drops tracestate entirely.
//
// otel-go's own parser, which still runs on the result, is close but
// throws away the whole list for a white-space-only member, which the
// contract says to ignore; the rules are spelled out here to be read.
func validTracestate(list string) (string, bool) {
	var members []string
	keys := map[string]bool{}
	count := 0 // every member counts, duplicates too: the limit is the list's as sent
	for member := range strings.SplitSeq(list, ",") {
		member = strings.Trim(member, " \t")
		if member == "" {
			continue
		}
		if count++; count > maxTracestateMembers {
			return "", false
		}
		key, value, ok := strings.Cut(member, "=")
		if !ok || !tracestateKey.MatchString(key) || !tracestateValue.MatchString(value) {
			return "", false
		}
		if !keys[key] {
			keys[key] = true
			members = append(members, member)
		}
	}
	return strings.Join(members, ","), true
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

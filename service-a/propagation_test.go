package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

const (
	tpA = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	tpB = "00-11111111111111111111111111111111-2222222222222222-00"
)

func TestStrictTraceContextExtract(t *testing.T) {
	tests := []struct {
		name           string
		header         http.Header
		wantTraceID    string // "" means nothing extracted
		wantTracestate string
	}{
		{name: "no header", header: http.Header{}},
		{name: "one value", header: http.Header{"Traceparent": {tpA}},
			wantTraceID: "0af7651916cd43dd8448eb211c80319c"},
		{name: "identical lines count as one", header: http.Header{"Traceparent": {tpA, tpA}},
			wantTraceID: "0af7651916cd43dd8448eb211c80319c"},
		{name: "identical comma-joined with spaces", header: http.Header{"Traceparent": {" " + tpA + " ,\t" + tpA}},
			wantTraceID: "0af7651916cd43dd8448eb211c80319c"},
		{name: "conflicting lines", header: http.Header{"Traceparent": {tpA, tpB}}},
		{name: "conflicting comma-joined (Node, gunicorn)", header: http.Header{"Traceparent": {tpA + ", " + tpB}}},
		{name: "conflicting even when the first line repeats", header: http.Header{"Traceparent": {tpA, tpA, tpB}}},
		{name: "one malformed value", header: http.Header{"Traceparent": {"00-xyz-01"}}},
		{name: "empty lines ignored", header: http.Header{"Traceparent": {"", tpA, " "}},
			wantTraceID: "0af7651916cd43dd8448eb211c80319c"},
		{name: "tracestate lines combined in order",
			header:      http.Header{"Traceparent": {tpA}, "Tracestate": {"foo=1", "bar=2,baz=3"}},
			wantTraceID: "0af7651916cd43dd8448eb211c80319c", wantTracestate: "foo=1,bar=2,baz=3"},
		{name: "empty tracestate lines ignored",
			header:      http.Header{"Traceparent": {tpA}, "Tracestate": {"", "foo=1", "  ", "bar=2"}},
			wantTraceID: "0af7651916cd43dd8448eb211c80319c", wantTracestate: "foo=1,bar=2"},
		{name: "tracestate dropped with the parent", header: http.Header{"Traceparent": {tpA, tpB}, "Tracestate": {"foo=1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := newPropagator().Extract(context.Background(), propagation.HeaderCarrier(tt.header))
			sc := trace.SpanContextFromContext(ctx)

			if tt.wantTraceID == "" {
				if sc.IsValid() {
					t.Fatalf("extracted %s, want nothing", sc.TraceID())
				}
				return
			}
			if sc.TraceID().String() != tt.wantTraceID || !sc.IsRemote() {
				t.Errorf("extracted trace %s (remote %v), want %s", sc.TraceID(), sc.IsRemote(), tt.wantTraceID)
			}
			if got := sc.TraceState().String(); got != tt.wantTracestate {
				t.Errorf("tracestate %q, want %q", got, tt.wantTracestate)
			}
		})
	}
}

func TestRejectedTraceparents(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   []string
	}{
		{"none", nil, nil},
		{"single", []string{tpA}, nil},
		{"identical duplicates", []string{tpA, tpA + "," + tpA}, nil},
		{"conflicting, first-seen order", []string{tpB + "," + tpA, tpB}, []string{tpB, tpA}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rejectedTraceparents(propagation.HeaderCarrier(http.Header{"Traceparent": tt.values}))
			if mustJSON(got) != mustJSON(tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// A carrier that is not an http.Header (no Values method) still works.
func TestStrictTraceContextWithMapCarrier(t *testing.T) {
	ctx := newPropagator().Extract(context.Background(), propagation.MapCarrier{"traceparent": tpA + "," + tpB})
	if trace.SpanContextFromContext(ctx).IsValid() {
		t.Error("comma-joined conflicting values were accepted")
	}
}

func TestStrictTraceContextInjectsOneTraceparent(t *testing.T) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{1},
		SpanID:     trace.SpanID{2},
		TraceFlags: trace.FlagsSampled,
	})
	header := http.Header{"Traceparent": {tpB}} // a stale value must be replaced, not added to
	newPropagator().Inject(trace.ContextWithSpanContext(context.Background(), sc), propagation.HeaderCarrier(header))

	want := "00-01000000000000000000000000000000-0200000000000000-01"
	if got := header.Values("Traceparent"); len(got) != 1 || got[0] != want {
		t.Errorf("traceparent lines %q, want [%q]", got, want)
	}
}

// tracestateMembers makes n valid members k1=v1,k2=v2,...
func tracestateMembers(n int) []string {
	members := make([]string, n)
	for i := range members {
		members[i] = fmt.Sprintf("k%d=v%d", i+1, i+1)
	}
	return members
}

// TestValidTracestate is docs/contract.md, "tracestate", one rule per row.
func TestValidTracestate(t *testing.T) {
	tests := []struct {
		name  string
		list  string
		want  string // the list passed on; ignored when invalid
		valid bool
	}{
		{"empty", "", "", true},
		{"one member", "foo=1", "foo=1", true},
		{"two members", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7", true},
		{"optional white space around members", " foo=1 ,\tbar=2\t", "foo=1,bar=2", true},
		{"empty members ignored", ",foo=1,, ,\t,bar=2,", "foo=1,bar=2", true},
		{"only empty members", " , ,", "", true},
		{"32 members", strings.Join(tracestateMembers(32), ","), strings.Join(tracestateMembers(32), ","), true},
		{"32 members and empty ones", strings.Join(tracestateMembers(32), ", ,"), strings.Join(tracestateMembers(32), ","), true},
		{"33 members", strings.Join(tracestateMembers(33), ","), "", false},
		{"33 members, one a duplicate key", strings.Join(tracestateMembers(32), ",") + ",k1=1", "", false},
		{"32 members, one a duplicate key", strings.Join(tracestateMembers(31), ",") + ",k1=1", strings.Join(tracestateMembers(31), ","), true},
		{"member without =", "foo=1,bar", "", false},
		{"key of 256 characters", strings.Repeat("z", 256) + "=1", strings.Repeat("z", 256) + "=1", true},
		{"key of 257 characters", strings.Repeat("z", 257) + "=1", "", false},
		{"key with every allowed character", "a0_-*/@z=1", "a0_-*/@z=1", true},
		{"key starting with a digit", "1foo=1", "1foo=1", true},
		{"key starting with @", "@foo=1,bar=2", "", false},
		{"upper-case key", "FOO=1", "", false},
		{"key with a dot", "foo.bar=1", "", false},
		{"key with a space before =", "foo =1", "", false},
		{"empty key", "=1", "", false},
		{"tenant@vendor", "tenant@vendor=1", "tenant@vendor=1", true},
		{"tenant starting with a digit", "1tenant@vendor=1", "1tenant@vendor=1", true},
		{"tenant of 241, vendor of 14", strings.Repeat("t", 241) + "@" + strings.Repeat("v", 14) + "=1",
			strings.Repeat("t", 241) + "@" + strings.Repeat("v", 14) + "=1", true},
		{"long tenant, short vendor", strings.Repeat("t", 242) + "@v=1", strings.Repeat("t", 242) + "@v=1", true},
		{"short tenant, long vendor", "t@" + strings.Repeat("v", 15) + "=1", "t@" + strings.Repeat("v", 15) + "=1", true},
		{"vendor starting with a digit", "tenant@1vendor=1", "tenant@1vendor=1", true},
		{"at sign last", "foo@=1,bar=2", "foo@=1,bar=2", true},
		{"two at signs in a row", "foo@@bar=1,bar=2", "foo@@bar=1,bar=2", true},
		{"two at signs", "foo@bar@baz=1,bar=2", "foo@bar@baz=1,bar=2", true},
		{"value with inner and leading spaces", "foo= a b", "foo= a b", true},
		{"value of 256 characters", "foo=" + strings.Repeat("v", 256), "foo=" + strings.Repeat("v", 256), true},
		{"value of 257 characters", "foo=" + strings.Repeat("v", 257), "", false},
		{"empty value", "foo=", "", false},
		{"value with =", "foo=a=b", "", false},
		{"value with a control character", "foo=a\x7fb", "", false},
		{"value with a tab inside", "foo=a\tb", "", false},
		{"value with non-ASCII", "foo=caf\u00e9", "", false},
		{"duplicate key, same value: the first is kept", "foo=1,foo=1", "foo=1", true},
		{"duplicate key, other value: the first is kept", "foo=1,bar=2,foo=2", "foo=1,bar=2", true},
		{"duplicate tenant@vendor key", "t@v=1,t@v=2", "t@v=1", true},
		{"a duplicate does not excuse a bad member", "foo=1,foo=2,BAR=3", "", false},
		{"one bad member spoils the list", "foo=1,BAR=2,baz=3", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, valid := validTracestate(tt.list)
			if valid != tt.valid || (valid && got != tt.want) {
				t.Errorf("validTracestate(%.60q) = %.60q, %v; want %.60q, %v", tt.list, got, valid, tt.want, tt.valid)
			}
		})
	}
}

// An invalid tracestate is dropped whole and the traceparent still continues;
// the trace flags, including the Level 2 random flag, are kept.
func TestStrictTraceContextTracestateAndFlags(t *testing.T) {
	const traceID = "0af7651916cd43dd8448eb211c80319c"
	tests := []struct {
		name           string
		header         http.Header
		wantTracestate string
		wantFlags      trace.TraceFlags
	}{
		{name: "valid lines combined",
			header:         http.Header{"Tracestate": {"foo=1", "bar=2"}},
			wantTracestate: "foo=1,bar=2", wantFlags: 0x01},
		{name: "duplicate key across lines: the first is kept",
			header:         http.Header{"Tracestate": {"foo=1", "foo=2"}},
			wantTracestate: "foo=1", wantFlags: 0x01},
		{name: "keys otel-go cannot parse are passed on",
			header:         http.Header{"Tracestate": {"foo@=1,bar=2", "t@" + strings.Repeat("v", 15) + "=3"}},
			wantTracestate: "foo@=1,bar=2,t@" + strings.Repeat("v", 15) + "=3", wantFlags: 0x01},
		{name: "invalid list dropped whole",
			header:    http.Header{"Tracestate": {"foo=1,@bar=2"}},
			wantFlags: 0x01},
		{name: "33 members across lines",
			header:    http.Header{"Tracestate": {strings.Join(tracestateMembers(20), ","), strings.Join(tracestateMembers(33)[20:], ",")}},
			wantFlags: 0x01},
		{name: "white-space-only member kept out, list kept",
			header:         http.Header{"Tracestate": {"foo=1, ,bar=2"}},
			wantTracestate: "foo=1,bar=2", wantFlags: 0x01},
		{name: "random flag kept",
			header:    http.Header{"Traceparent": {"00-" + traceID + "-b7ad6b7169203331-03"}},
			wantFlags: 0x03},
		{name: "random without sampled kept",
			header:    http.Header{"Traceparent": {"00-" + traceID + "-b7ad6b7169203331-02"}},
			wantFlags: 0x02},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.header.Get("Traceparent") == "" {
				tt.header.Set("Traceparent", "00-"+traceID+"-b7ad6b7169203331-01")
			}
			ctx := newPropagator().Extract(context.Background(), propagation.HeaderCarrier(tt.header))
			sc := trace.SpanContextFromContext(ctx)
			if sc.TraceID().String() != traceID {
				t.Fatalf("trace %s not continued", sc.TraceID())
			}
			// What goes out on the next call is what counts.
			outgoing := http.Header{}
			newPropagator().Inject(ctx, propagation.HeaderCarrier(outgoing))
			if got := outgoing.Values("Tracestate"); strings.Join(got, "|") != tt.wantTracestate {
				t.Errorf("outgoing tracestate %q, want %q", got, tt.wantTracestate)
			}
			if sc.TraceFlags() != tt.wantFlags {
				t.Errorf("flags %s, want %s", sc.TraceFlags(), tt.wantFlags)
			}
		})
	}
}

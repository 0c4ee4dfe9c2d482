package main

import (
	"context"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

const (
	tpA = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	tpB = "00-11111111111111111111111111111111-2222222222222222-00"
)

// The contract's rows run against every service in tests/e2e/test_45_w3c_rules.py
// and test_30_duplicate_traceparent.py; these are what HTTP cannot send or show.
func TestStrictTraceContextExtract(t *testing.T) {
	tests := []struct {
		name        string
		header      http.Header
		wantTraceID string // "" means nothing extracted
	}{
		{name: "no header", header: http.Header{}},
		{name: "empty lines ignored", header: http.Header{"Traceparent": {"", tpA, " "}},
			wantTraceID: "0af7651916cd43dd8448eb211c80319c"},
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

// A control character never gets past net/http's header parser, so only this
// test sees the value rule refuse one (docs/contract.md, "tracestate").
func TestValidTracestateRefusesControlCharacters(t *testing.T) {
	for _, list := range []string{"foo=a\x7fb", "foo=a\x01b"} {
		if got, valid := validTracestate(list); valid {
			t.Errorf("validTracestate(%q) = %q, true; want invalid", list, got)
		}
	}
}

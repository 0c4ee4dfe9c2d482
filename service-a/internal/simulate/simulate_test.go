package simulate

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestParse keeps what tests/e2e/test_50_bad_input.py cannot send to every
// service cheaply (values clamped to 10000 would wait 10 s) and the parsed
// values themselves; its "query parameters" rows hold the refused spellings,
// the negative and 20-digit values and repeated parameters for all three.
func TestParse(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		query   string
		want    Params
		wantErr bool
	}{
		{query: "", want: Params{}},
		{query: "delay_ms=250", want: Params{DelayMs: 250}},
		{query: "delay_ms=0", want: Params{}},
		{query: "delay_ms=999999", want: Params{DelayMs: MaxDelayMs}},
		{query: "fail=true", want: Params{Fail: &yes}},
		{query: "fail=false&delay_ms=3", want: Params{DelayMs: 3, Fail: &no}},
		{query: "delay_ms=007", want: Params{DelayMs: 7}},
		{query: "delay_ms=99999999999999999999", want: Params{DelayMs: MaxDelayMs}},
		{query: "delay_ms=" + strings.Repeat("9", 400), want: Params{DelayMs: MaxDelayMs}},
		{query: "delay_ms=-", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, _ := url.ParseQuery(tt.query)
			got, err := Parse(q)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidParameter) {
					t.Fatalf("err = %v, want ErrInvalidParameter", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.DelayMs != tt.want.DelayMs || (got.Fail == nil) != (tt.want.Fail == nil) ||
				(got.Fail != nil && *got.Fail != *tt.want.Fail) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestShouldFail(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		fail          *bool
		failByDefault bool
		want          bool
	}{
		{nil, false, false},
		{nil, true, true},
		{&yes, false, true},
		{&no, true, false},
	}
	for _, tt := range tests {
		if got := (Params{Fail: tt.fail}).ShouldFail(tt.failByDefault); got != tt.want {
			t.Errorf("Fail=%v default=%v: got %v, want %v", tt.fail, tt.failByDefault, got, tt.want)
		}
	}
}

func TestWork(t *testing.T) {
	yes := true
	tests := []struct {
		name    string
		params  Params
		wantErr error
	}{
		{"base latency only", Params{}, nil},
		{"with delay", Params{DelayMs: 30}, nil},
		{"forced failure", Params{Fail: &yes}, ErrSimulatedFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spans := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
			ctx, span := tp.Tracer("test").Start(context.Background(), "work")

			start := time.Now()
			err := tt.params.Work(ctx, false)
			elapsed := time.Since(start)
			span.End()

			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if want := BaseLatency + time.Duration(tt.params.DelayMs)*time.Millisecond; elapsed < want {
				t.Errorf("took %v, want at least %v", elapsed, want)
			}
			attrs := spans.Ended()[0].Attributes()
			if len(attrs) != 1 || attrs[0].Key != "app.simulated_delay_ms" || attrs[0].Value.AsInt64() != int64(tt.params.DelayMs) {
				t.Errorf("span attributes %v, want app.simulated_delay_ms=%d", attrs, tt.params.DelayMs)
			}
		})
	}
}

func TestWorkStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	err := Params{DelayMs: MaxDelayMs}.Work(ctx, false)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("took %v after cancellation", elapsed)
	}
}

package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
)

func TestTracingModeFromEnv(t *testing.T) {
	tests := []struct {
		env      map[string]string
		want     tracingMode
		wantWarn bool
	}{
		{map[string]string{}, tracingExported, false},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, tracingExported, false},
		{map[string]string{"OTEL_TRACES_EXPORTER": " None "}, tracingNotExported, false},
		{map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, tracingExported, true},
		{map[string]string{"OTEL_SDK_DISABLED": "true"}, tracingDisabled, false},
		{map[string]string{"OTEL_SDK_DISABLED": "TRUE", "OTEL_TRACES_EXPORTER": "otlp"}, tracingDisabled, false},
		{map[string]string{"OTEL_SDK_DISABLED": "false"}, tracingExported, false},
		{map[string]string{"OTEL_SDK_DISABLED": "false", "OTEL_TRACES_EXPORTER": "none"}, tracingNotExported, false},
		{map[string]string{"OTEL_SDK_DISABLED": "yes please"}, tracingExported, true},
		{map[string]string{"OTEL_SDK_DISABLED": ""}, tracingExported, false},
	}
	for _, tt := range tests {
		logs := &syncBuffer{}
		got := tracingModeFromEnv(func(key string) (string, bool) { v, ok := tt.env[key]; return v, ok },
			newLogger(logs, "service-a", slog.LevelInfo))
		if got != tt.want || strings.Contains(logs.String(), `"WARN"`) != tt.wantWarn {
			t.Errorf("%v: mode %d, warned %v; want %d, %v", tt.env, got, logs.String() != "", tt.want, tt.wantWarn)
		}
	}
}

// TestSwitchesTurnTracingOff: with either switch nothing reaches the
// Collector, and the incoming trace context still reaches the next service.
func TestSwitchesTurnTracingOff(t *testing.T) {
	tests := []struct {
		name          string
		env           map[string]string
		wantRecording bool
		wantExport    bool
	}{
		{"default (the control)", map[string]string{}, true, true},
		{"exporter none", map[string]string{"OTEL_TRACES_EXPORTER": "none"}, true, false},
		{"SDK disabled", map[string]string{"OTEL_SDK_DISABLED": "true"}, false, false},
	}
	const incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var exports atomic.Int32
			collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { exports.Add(1) }))
			defer collector.Close()
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
			t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "1")
			t.Setenv("OTEL_SDK_DISABLED", "")
			t.Setenv("OTEL_TRACES_EXPORTER", "")
			for key, value := range tt.env {
				t.Setenv(key, value)
			}
			previousProvider, previousPropagator := otel.GetTracerProvider(), otel.GetTextMapPropagator()
			t.Cleanup(func() {
				otel.SetTracerProvider(previousProvider)
				otel.SetTextMapPropagator(previousPropagator)
			})

			logs := &syncBuffer{}
			tp, err := setupTelemetry(context.Background(), "service-a", newLogger(logs, "service-a", slog.LevelInfo))
			if err != nil {
				t.Fatal(err)
			}
			propagator := otel.GetTextMapPropagator()
			ctx := propagator.Extract(context.Background(), propagation.MapCarrier{"traceparent": incoming})
			ctx, span := tp.Tracer("test").Start(ctx, "request")
			carrier := propagation.MapCarrier{}
			propagator.Inject(ctx, carrier)
			if span.IsRecording() != tt.wantRecording {
				t.Errorf("recording %v, want %v", span.IsRecording(), tt.wantRecording)
			}
			span.End()
			if got := carrier["traceparent"]; !strings.HasPrefix(got, "00-0af7651916cd43dd8448eb211c80319c-") {
				t.Errorf("outgoing traceparent %q does not continue the incoming trace", got)
			}

			flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := tp.ForceFlush(flushCtx); err != nil {
				t.Fatal(err)
			}
			_ = tp.Shutdown(flushCtx)
			if n := exports.Load(); (n > 0) != tt.wantExport {
				t.Errorf("%d exports reached the Collector, want any: %v", n, tt.wantExport)
			}
		})
	}
}

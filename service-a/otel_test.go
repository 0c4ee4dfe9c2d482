package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

func TestResourceLetsEnvironmentWin(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string
		wantService string
		wantAttr    string // "key=value" expected on the resource, "" to skip
	}{
		{"code default", nil, "service-a", ""},
		{"OTEL_SERVICE_NAME wins", map[string]string{"OTEL_SERVICE_NAME": "service-a-canary"}, "service-a-canary", ""},
		{"OTEL_RESOURCE_ATTRIBUTES added", map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=native"},
			"service-a", "deployment.environment.name=native"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("OTEL_SERVICE_NAME", "")
			t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "")
			for key, value := range tt.env {
				t.Setenv(key, value)
			}
			res, err := newResource(context.Background(), "service-a")
			if err != nil {
				t.Fatal(err)
			}
			got, _ := res.Set().Value(semconv.ServiceNameKey)
			if got.AsString() != tt.wantService {
				t.Errorf("service.name %q, want %q", got.AsString(), tt.wantService)
			}
			if tt.wantAttr != "" && !strings.Contains(res.String(), tt.wantAttr) {
				t.Errorf("resource %s lacks %s", res, tt.wantAttr)
			}
		})
	}
}

// TestUnreachableCollector: spans for a Collector nobody listens to cost
// log lines (schema-valid ones) and a bounded shutdown, nothing more.
func TestUnreachableCollector(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + closed.Addr().String()
	_ = closed.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)

	previousProvider, previousPropagator, previousHandler := otel.GetTracerProvider(), otel.GetTextMapPropagator(), otel.GetErrorHandler()
	t.Cleanup(func() {
		otel.SetTracerProvider(previousProvider)
		otel.SetTextMapPropagator(previousPropagator)
		otel.SetErrorHandler(previousHandler)
	})

	logs := &syncBuffer{}
	logger := newLogger(logs, "service-a", slog.LevelInfo)
	tp, err := setupTelemetry(context.Background(), "service-a", logger)
	if err != nil {
		t.Fatal(err)
	}
	_, span := tp.Tracer("test").Start(context.Background(), "lost span")
	span.End()

	start := time.Now()
	flushTelemetry(tp, logger)
	if elapsed := time.Since(start); elapsed > telemetryFlushTimeout+time.Second {
		t.Errorf("flush took %v, want at most about %v", elapsed, telemetryFlushTimeout)
	}
	if !strings.Contains(logs.String(), endpoint[len("http://"):]) {
		t.Errorf("the export failure was not logged:\n%s", logs)
	}
	assertLinesMatchSchema(t, compileLogSchema(t), logs.String())
}

// TestAlwaysOnRecordsWhateverTheCallerSampled runs the sampler the contract
// sets (OTEL_TRACES_SAMPLER=always_on, docs/contract.md "Sampling decision"):
// a request is recorded whatever its sampled flag, the traceresponse and the
// outbound traceparent say sampled, and the random flag goes on.
func TestAlwaysOnRecordsWhateverTheCallerSampled(t *testing.T) {
	const traceID = "0af7651916cd43dd8448eb211c80319c"
	tests := []struct {
		incoming  string // flags of the incoming traceparent
		wantFlags string // of the traceresponse and the outbound traceparent
	}{
		{"00", "01"},
		{"01", "01"},
		{"02", "03"},
		{"03", "03"},
	}
	for _, tt := range tests {
		t.Run("flags "+tt.incoming, func(t *testing.T) {
			t.Setenv("OTEL_TRACES_SAMPLER", "always_on")
			b := newFakeDownstream(t, "service-b")
			svc := newTestService(t, testConfig(b, nil))

			rec := svc.get("/api/demo/failure/cascade", http.Header{
				"Traceparent": {"00-" + traceID + "-b7ad6b7169203331-" + tt.incoming}})

			server := svc.serverSpan(t) // fails unless the server span was recorded
			want := "00-" + traceID + "-" + server.SpanContext().SpanID().String() + "-" + tt.wantFlags
			if got := rec.Header().Get(traceresponseHeader); got != want {
				t.Errorf("traceresponse %q, want %q", got, want)
			}
			outbound := b.headers()
			if len(outbound) != 1 {
				t.Fatalf("%d calls to service-b, want 1", len(outbound))
			}
			if got := outbound[0].Get("Traceparent"); !strings.HasPrefix(got, "00-"+traceID+"-") ||
				!strings.HasSuffix(got, "-"+tt.wantFlags) {
				t.Errorf("outbound traceparent %q, want trace %s with flags %s", got, traceID, tt.wantFlags)
			}
		})
	}
}

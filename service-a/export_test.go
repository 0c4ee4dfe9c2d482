package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// scriptedExporter fails its first `failures` calls the way otlptracehttp
// reports a refused connection, then succeeds.
type scriptedExporter struct {
	mu       sync.Mutex
	failures int
	calls    int
	exported int
}

func (e *scriptedExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls++
	if e.calls <= e.failures {
		return fmt.Errorf("traces export: %w", &url.Error{Op: "Post", URL: "http://127.0.0.1:4318/v1/traces",
			Err: errors.New("dial tcp 127.0.0.1:4318: connect: connection refused")})
	}
	e.exported += len(spans)
	return nil
}

func (e *scriptedExporter) Shutdown(context.Context) error { return nil }

func messages(records []map[string]any) []string {
	out := make([]string, 0, len(records))
	for _, r := range records {
		out = append(out, r["message"].(string))
	}
	return out
}

// TestRetryingExporterHoldsTheBatch: a refused batch is sent again until it
// is delivered, or given up (and counted) at the processor's deadline.
func TestRetryingExporterHoldsTheBatch(t *testing.T) {
	tests := []struct {
		name        string
		failures    int
		deadline    time.Duration
		wantCalls   int // 0: at least 2
		wantDropped float64
	}{
		{"kept until delivered", 3, 10 * time.Second, 4, 0},
		{"given up at the processor deadline", 1 << 30, 50 * time.Millisecond, 0, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner := &scriptedExporter{failures: tt.failures}
			logs := &syncBuffer{}
			health := newExportHealth(newLogger(logs, "service-a", slog.LevelInfo))
			exporter := newRetryingExporter(inner, health)
			exporter.initialBackoff, exporter.maxBackoff = time.Millisecond, 5*time.Millisecond

			ctx, cancel := context.WithTimeout(context.Background(), tt.deadline)
			defer cancel()
			err := exporter.ExportSpans(ctx, make([]sdktrace.ReadOnlySpan, 5))
			if tt.wantDropped == 0 && (err != nil || inner.calls != tt.wantCalls || inner.exported != 5) {
				t.Fatalf("error %v, %d calls, %d exported; want all 5 spans in %d calls", err, inner.calls, inner.exported, tt.wantCalls)
			}
			if tt.wantDropped > 0 && (err == nil || !strings.Contains(err.Error(), "connection refused") || inner.calls < 2) {
				t.Fatalf("error %v after %d calls, want the give-up with the last cause", err, inner.calls)
			}
			health.succeeded()
			records := logRecords(t, logs.String())
			if got := strings.Join(messages(records), "|"); got != msgExportFailing+"|"+msgExportRecovered {
				t.Fatalf("log lines %q", got)
			}
			if recovered := records[1]; recovered["spans_dropped"] != tt.wantDropped || recovered["level"] != "INFO" ||
				(tt.wantCalls > 0 && recovered["failed_attempts"] != float64(tt.wantCalls-1)) {
				t.Errorf("recovery line %v", recovered)
			}
			assertLinesMatchSchema(t, compileLogSchema(t), logs.String())
		})
	}
}

// TestExportHealthLinesOverAnOutage: one line when failing starts, one
// summary per period, one when it ends; never one per attempt.
func TestExportHealthLinesOverAnOutage(t *testing.T) {
	tests := []struct {
		name         string
		outage       time.Duration
		attemptEvery time.Duration
		wantMessages []string
	}{
		{"healthy", 0, time.Second, nil},
		{"short blip", 2 * time.Second, 500 * time.Millisecond, []string{msgExportFailing, msgExportRecovered}},
		{"just under a period", 29 * time.Second, time.Second, []string{msgExportFailing, msgExportRecovered}},
		{"70 s at 5 attempts/s", 70 * time.Second, 200 * time.Millisecond,
			[]string{msgExportFailing, msgExportStillFailing, msgExportStillFailing, msgExportRecovered}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &syncBuffer{}
			health := newExportHealth(newLogger(logs, "service-a", slog.LevelInfo))
			clock := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			health.now = func() time.Time { return clock }
			attempts := 0
			for elapsed := time.Duration(0); elapsed < tt.outage; elapsed += tt.attemptEvery {
				health.failed(errors.New("connection refused"))
				attempts++
				clock = clock.Add(tt.attemptEvery)
			}
			health.succeeded()
			records := logRecords(t, logs.String())
			if got, want := strings.Join(messages(records), "|"), strings.Join(tt.wantMessages, "|"); got != want {
				t.Fatalf("lines %q, want %q", got, want)
			}
			for _, r := range records {
				for _, field := range []string{"error", "failed_attempts", "spans_dropped", "failing_for_ms"} {
					if _, ok := r[field]; !ok {
						t.Errorf("%q lacks %s", r["message"], field)
					}
				}
			}
			if len(records) > 0 {
				last := records[len(records)-1]
				if last["failed_attempts"] != float64(attempts) || last["failing_for_ms"] != float64(tt.outage.Milliseconds()) {
					t.Errorf("recovery line %v, want %d attempts over %v", last, attempts, tt.outage)
				}
			}
		})
	}
}

// otlpSink is a minimal OTLP/HTTP trace receiver. It decodes each request
// as the Collector does (a string that is not valid UTF-8 fails to decode
// and is answered 400), answers the statuses in script first, then 200,
// and keeps what it accepted.
type otlpSink struct {
	mu       sync.Mutex
	script   []int
	requests int
	received []*coltracepb.ExportTraceServiceRequest
}

func (s *otlpSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if len(s.script) > 0 {
		status := s.script[0]
		s.script = s.script[1:]
		http.Error(w, http.StatusText(status), status)
		return
	}
	request := &coltracepb.ExportTraceServiceRequest{}
	if err := proto.Unmarshal(body, request); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.received = append(s.received, request)
	w.Header().Set("Content-Type", "application/x-protobuf")
}

func (s *otlpSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	spans := 0
	for _, request := range s.received {
		for _, rs := range request.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				spans += len(ss.Spans)
			}
		}
	}
	return spans
}

func (s *otlpSink) requestCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// startOTLPSink serves sink on a loopback port and returns an otlptracehttp
// exporter sending to it, with the exporter's own retries off as in
// production.
func startOTLPSink(t *testing.T, sink *otlpSink) sdktrace.SpanExporter {
	t.Helper()
	server := httptest.NewServer(sink)
	t.Cleanup(server.Close)
	exporter, err := otlptracehttp.New(context.Background(),
		otlptracehttp.WithEndpoint(strings.TrimPrefix(server.URL, "http://")), otlptracehttp.WithInsecure(),
		otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exporter.Shutdown(context.Background()) })
	return exporter
}

func endedSpan(name string, attributes ...attribute.KeyValue) sdktrace.ReadOnlySpan {
	return tracetest.SpanStub{Name: name, Attributes: attributes}.Snapshot()
}

// TestExportRetriesOnlyWhatTheSpecificationRetries drives the real exporter
// against a receiver that answers one status, then 200. The OTLP
// specification ("Failures") retries 429, 502, 503 and 504; every other
// answer drops the batch at once, in one line.
func TestExportRetriesOnlyWhatTheSpecificationRetries(t *testing.T) {
	tests := []struct {
		status  int
		retried bool
	}{
		{http.StatusTooManyRequests, true},
		{http.StatusBadGateway, true},
		{http.StatusServiceUnavailable, true},
		{http.StatusGatewayTimeout, true},
		{http.StatusBadRequest, false},
		{http.StatusUnauthorized, false},
		{http.StatusForbidden, false},
		{http.StatusNotFound, false},
		{http.StatusRequestEntityTooLarge, false},
		{http.StatusInternalServerError, false},
		{http.StatusNotImplemented, false},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			sink := &otlpSink{script: []int{tt.status}}
			logs := &syncBuffer{}
			exporter := newRetryingExporter(startOTLPSink(t, sink), newExportHealth(newLogger(logs, "service-a", slog.LevelInfo)))
			exporter.initialBackoff, exporter.maxBackoff = time.Millisecond, 2*time.Millisecond

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := exporter.ExportSpans(ctx, []sdktrace.ReadOnlySpan{endedSpan("answered")}); err != nil {
				t.Fatal(err)
			}
			records := logRecords(t, logs.String())
			if tt.retried {
				if sink.requestCount() != 2 || sink.count() != 1 {
					t.Errorf("%d requests, %d spans delivered; want the batch sent again and delivered", sink.requestCount(), sink.count())
				}
				if got := strings.Join(messages(records), "|"); got != msgExportFailing+"|"+msgExportRecovered {
					t.Errorf("log lines %q", got)
				}
				return
			}
			if sink.requestCount() != 1 || sink.count() != 0 {
				t.Errorf("%d requests, %d spans delivered; want one request and the batch dropped", sink.requestCount(), sink.count())
			}
			if len(records) != 1 || records[0]["message"] != msgBatchDropped || records[0]["level"] != "ERROR" ||
				records[0]["spans_dropped"] != 1.0 || !strings.Contains(records[0]["error"].(string), strconv.Itoa(tt.status)) {
				t.Errorf("log lines %v, want one %q line naming the status", records, msgBatchDropped)
			}
			assertLinesMatchSchema(t, compileLogSchema(t), logs.String())
		})
	}
}

// TestUnencodableBatchIsDroppedAtOnce: the attack of issue 17 without the
// UTF-8 repair in front (validutf8.go). The batch the exporter cannot
// marshal is dropped in one line, with the processor's export timeout at
// 5 minutes, and the spans ended after it reach the receiver.
func TestUnencodableBatchIsDroppedAtOnce(t *testing.T) {
	sink := &otlpSink{}
	logs := &syncBuffer{}
	exporter := newRetryingExporter(startOTLPSink(t, sink), newExportHealth(newLogger(logs, "service-a", slog.LevelInfo)))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter,
		sdktrace.WithBatchTimeout(10*time.Millisecond), sdktrace.WithExportTimeout(5*time.Minute)))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tracer := tp.Tracer("test")

	_, bad := tracer.Start(context.Background(), "GET")
	bad.SetAttributes(attribute.String("url.path", "/service-a/t\xc1\xa5st"))
	bad.End()
	pollUntil(t, "the dropped batch", 5*time.Second, func() bool { return strings.Contains(logs.String(), msgBatchDropped) })

	for range 3 {
		_, span := tracer.Start(context.Background(), "later request")
		span.End()
	}
	pollUntil(t, "the later spans at the receiver", 5*time.Second, func() bool { return sink.count() == 3 })

	records := logRecords(t, logs.String())
	if len(records) != 1 {
		t.Fatalf("log lines %v, want the one drop line", records)
	}
	if drop := records[0]; drop["spans_dropped"] != 1.0 || drop["spans_dropped_total"] != 1.0 ||
		!strings.Contains(drop["error"].(string), "invalid UTF-8") {
		t.Errorf("drop line %v", drop)
	}
	if sink.requestCount() != 1 {
		t.Errorf("%d requests, want only the later batch sent", sink.requestCount())
	}
}

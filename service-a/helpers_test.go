package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	os.Exit(m.Run())
}

// testService is service-a's router with its own tracer provider, span
// recorder and log buffer: nothing global, so tests cannot leak into each
// other.
type testService struct {
	router *gin.Engine
	spans  *tracetest.SpanRecorder
	logs   *syncBuffer
}

func newTestService(t *testing.T, cfg Config) *testService {
	t.Helper()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })

	logs := &syncBuffer{}
	logger := newLogger(logs, cfg.ServiceName, slog.LevelDebug)
	return &testService{
		router: newRouter(cfg, logger, tp, newPropagator()),
		spans:  spans,
		logs:   logs,
	}
}

// testConfig points the service at the given fake downstreams.
func testConfig(b, c *fakeDownstream) Config {
	cfg := defaultConfig()
	if b != nil {
		cfg.ServiceBURL = b.URL
	}
	if c != nil {
		cfg.ServiceCURL = c.URL
	}
	cfg.DownstreamTimeout = 500 * time.Millisecond
	cfg.ConformanceEndpoint = true // as natively and in compose
	return cfg
}

// serve runs one request through the router.
func (s *testService) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.router.ServeHTTP(rec, req)
	return rec
}

func (s *testService) get(target string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for key, values := range header {
		req.Header[key] = values
	}
	return s.serve(req)
}

// serverSpan returns the one SERVER span recorded so far.
func (s *testService) serverSpan(t *testing.T) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, span := range s.spans.Ended() {
		if span.SpanKind() == trace.SpanKindServer {
			found = append(found, span)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want 1 server span, got %d", len(found))
	}
	return found[0]
}

// clientSpans returns the CLIENT spans in start order.
func (s *testService) clientSpans() []sdktrace.ReadOnlySpan {
	var found []sdktrace.ReadOnlySpan
	for _, span := range s.spans.Ended() {
		if span.SpanKind() == trace.SpanKindClient {
			found = append(found, span)
		}
	}
	slices.SortFunc(found, func(a, b sdktrace.ReadOnlySpan) int {
		return a.StartTime().Compare(b.StartTime())
	})
	return found
}

// logLines decodes every line written so far.
func (s *testService) logLines(t *testing.T) []map[string]any {
	t.Helper()
	return logRecords(t, s.logs.String())
}

// logRecords decodes JSON log lines; a line that is not one JSON object
// fails the test.
func logRecords(t *testing.T, output string) []map[string]any {
	t.Helper()
	var records []map[string]any
	for _, raw := range strings.Split(strings.TrimSpace(output), "\n") {
		if raw == "" {
			continue
		}
		var record map[string]any
		if err := json.Unmarshal([]byte(raw), &record); err != nil {
			t.Fatalf("log line is not a JSON object: %v\n%s", err, raw)
		}
		records = append(records, record)
	}
	return records
}

// pollUntil checks condition until it holds, failing the test after deadline.
func pollUntil(t *testing.T, what string, deadline time.Duration, condition func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !condition() {
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s", deadline, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// linesWithMessage filters logLines by message.
func (s *testService) linesWithMessage(t *testing.T, message string) []map[string]any {
	t.Helper()
	var found []map[string]any
	for _, line := range s.logLines(t) {
		if line["message"] == message {
			found = append(found, line)
		}
	}
	return found
}

func attributeValue(span sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range span.Attributes() {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func eventsNamed(span sdktrace.ReadOnlySpan, name string) []sdktrace.Event {
	var found []sdktrace.Event
	for _, event := range span.Events() {
		if event.Name == name {
			found = append(found, event)
		}
	}
	return found
}

func decodeBody(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, rec.Body.String())
	}
	return body
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fakeDownstream stands in for service-b or service-c: it answers the way
// docs/contract.md says they do, and records what it received.
type fakeDownstream struct {
	*httptest.Server
	name string

	mu       sync.Mutex
	received []*http.Request
}

// fakeLatency gives every call a visible width in a trace.
const fakeLatency = 20 * time.Millisecond

func newFakeDownstream(t *testing.T, name string) *fakeDownstream {
	t.Helper()
	f := &fakeDownstream{name: name}
	f.Server = httptest.NewServer(http.HandlerFunc(f.handle))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeDownstream) handle(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.received = append(f.received, r.Clone(context.Background()))
	f.mu.Unlock()

	answer := func(status int, body map[string]any) {
		body["service"] = f.name
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}
	delay, _ := strconv.Atoi(r.URL.Query().Get("delay_ms"))
	select {
	case <-time.After(fakeLatency + time.Duration(delay)*time.Millisecond):
	case <-r.Context().Done(): // the caller gave up (its timeout)
		return
	}

	// The refusal comes after the latency too: fakeLatency stands for the
	// network as much as for work.
	if hops, _ := strconv.Atoi(r.Header.Get(hopCountHeader)); hops > 5 {
		answer(http.StatusLoopDetected, map[string]any{"error": "loop_detected"})
		return
	}

	switch {
	case r.URL.Path == "/api/process" && r.URL.Query().Get("fail") == "true":
		answer(http.StatusInternalServerError, map[string]any{"error": "simulated_failure"})
	case r.URL.Path == "/api/process":
		answer(http.StatusOK, map[string]any{"result": "processed"})
	case r.URL.Path == "/api/cascade":
		// B's cascade: its call to C (fail=true) failed.
		answer(http.StatusBadGateway, map[string]any{"error": "downstream_failed"})
	default:
		answer(http.StatusNotFound, map[string]any{"error": "not_found"})
	}
}

// requests returns the request URIs received, in arrival order.
func (f *fakeDownstream) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	uris := make([]string, len(f.received))
	for i, r := range f.received {
		uris[i] = r.URL.RequestURI()
	}
	return uris
}

func (f *fakeDownstream) headers() []http.Header {
	f.mu.Lock()
	defer f.mu.Unlock()
	headers := make([]http.Header, len(f.received))
	for i, r := range f.received {
		headers[i] = r.Header
	}
	return headers
}

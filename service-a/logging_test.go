package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// logSchemaPath is the project's one log-line schema; the test reads it
// rather than restating it.
const logSchemaPath = "../observability/log-schema.json"

func compileLogSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	schema, err := jsonschema.NewCompiler().Compile(logSchemaPath)
	if err != nil {
		t.Fatalf("compile %s: %v", logSchemaPath, err)
	}
	return schema
}

// assertLinesMatchSchema validates every line of output against the schema.
func assertLinesMatchSchema(t *testing.T, schema *jsonschema.Schema, output string) int {
	t.Helper()
	lines := strings.Split(strings.TrimRight(output, "\n"), "\n")
	for _, line := range lines {
		instance, err := jsonschema.UnmarshalJSON(strings.NewReader(line))
		if err != nil {
			t.Errorf("not JSON: %v\n%.300s", err, line)
			continue
		}
		if err := schema.Validate(instance); err != nil {
			t.Errorf("line breaks the schema: %v\n%.300s", err, line)
		}
	}
	return len(lines)
}

// TestLogLinesMatchSchema sends ordinary and hostile requests and checks
// that every line written stays one schema-valid JSON object.
func TestLogLinesMatchSchema(t *testing.T) {
	schema := compileLogSchema(t)
	hostile := "\"},{\"level\":\"ERROR\"}\r\n\x00\xff" + strings.Repeat("q", 10*1024)

	tests := []struct {
		name   string
		target string
		header http.Header
	}{
		{"plain request", "/api/process", nil},
		{"failing request", "/api/process?fail=true", nil},
		{"downstream failures", "/api/demo/failure/timeout", nil},
		{"hostile X-Trace-ID", "/api/demo/parallel", http.Header{"X-Trace-Id": {"a\"b\nc\\d"}}},
		{"10 KB X-Trace-ID", "/api/process", http.Header{"X-Trace-Id": {strings.Repeat("x", 10*1024)}}},
		{"hostile traceparents", "/api/process", http.Header{"Traceparent": {hostile, tpA}}},
		{"hostile X-Hop-Count", "/api/process", http.Header{"X-Hop-Count": {hostile}}},
		{"hostile User-Agent", "/api/process", http.Header{"User-Agent": {hostile}}},
		{"hostile path", "/%22%7D%0A" + strings.Repeat("p", 10*1024), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, c := newFakeDownstream(t, "service-b"), newFakeDownstream(t, "service-c")
			svc := newTestService(t, testConfig(b, c))
			svc.get(tt.target, tt.header)

			if n := assertLinesMatchSchema(t, schema, svc.logs.String()); n == 0 {
				t.Error("no log lines written")
			}
			if got := len(svc.linesWithMessage(t, "request completed")); got != 1 {
				t.Errorf("%d request lines, want 1", got)
			}
		})
	}

	t.Run("outside a request", func(t *testing.T) {
		var out syncBuffer
		logger := newLogger(&out, "service-a", slog.LevelDebug)
		logger.Debug("debug line")
		logger.Info("info line", "address", "127.0.0.1:8081")
		logger.Warn("warn line")
		logger.Error("error line", "error", context.DeadlineExceeded)
		logger.Log(context.Background(), slog.LevelInfo+2, "in-between level")
		if n := assertLinesMatchSchema(t, schema, out.String()); n != 5 {
			t.Errorf("%d lines, want 5", n)
		}
	})
}

func TestLogLineShape(t *testing.T) {
	var out syncBuffer
	logger := newLogger(&out, "service-a", slog.LevelInfo)

	tp := sdktrace.NewTracerProvider()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	ctx, span := tp.Tracer("test").Start(withXTraceID(context.Background(), "trace-x"), "op")
	logger.DebugContext(ctx, "filtered out by LOG_LEVEL")
	logger.InfoContext(ctx, "inside")
	span.End()
	logger.Info("outside")

	var lines []map[string]any
	for _, raw := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var line map[string]any
		if err := json.Unmarshal([]byte(raw), &line); err != nil {
			t.Fatalf("not JSON: %s", raw)
		}
		lines = append(lines, line)
	}
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2 (DEBUG filtered)", len(lines))
	}

	inside, outside := lines[0], lines[1]
	if inside["trace_id"] != span.SpanContext().TraceID().String() ||
		inside["span_id"] != span.SpanContext().SpanID().String() || inside["x_trace_id"] != "trace-x" {
		t.Errorf("ids inside a span: %v", inside)
	}
	if outside["trace_id"] != "" || outside["span_id"] != "" || outside["x_trace_id"] != "" {
		t.Errorf("ids outside a span: %v", outside)
	}
	for _, stale := range []string{"time", "msg"} {
		if _, ok := inside[stale]; ok {
			t.Errorf("slog's %q field was not renamed", stale)
		}
	}
	stamp, _ := inside["timestamp"].(string)
	if parsed, err := time.Parse(time.RFC3339Nano, stamp); err != nil || !strings.HasSuffix(stamp, "Z") || len(stamp) != len("2026-11-25T00:40:12.345Z") {
		t.Errorf("timestamp %q: want RFC 3339 UTC with milliseconds (parsed %v, %v)", stamp, parsed, err)
	}
}

func TestLevelNames(t *testing.T) {
	tests := []struct {
		level slog.Level
		want  string
	}{
		{slog.LevelDebug - 4, "DEBUG"},
		{slog.LevelDebug, "DEBUG"},
		{slog.LevelInfo, "INFO"},
		{slog.LevelInfo + 2, "INFO"},
		{slog.LevelWarn, "WARN"},
		{slog.LevelError, "ERROR"},
		{slog.LevelError + 4, "ERROR"},
	}
	for _, tt := range tests {
		if got := levelName(tt.level); got != tt.want {
			t.Errorf("levelName(%v) = %q, want %q", tt.level, got, tt.want)
		}
	}
}

// Hostile values in a request that is served over a real connection: the
// log lines must stay valid even when net/http itself complains.
func TestHostileHeadersOverHTTP(t *testing.T) {
	schema := compileLogSchema(t)
	svc := newTestService(t, testConfig(nil, nil))
	logger := newLogger(svc.logs, "service-a", slog.LevelDebug)
	server := httptest.NewUnstartedServer(svc.router)
	server.Config = newHTTPServer(svc.router, logger)
	server.Start()
	defer server.Close()

	req, _ := http.NewRequest(http.MethodGet, server.URL+"/api/process", nil)
	req.Header.Set("X-Trace-ID", strings.Repeat("\"", 10*1024))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || !mintedXTraceID.MatchString(resp.Header.Get(xTraceIDHeader)) {
		t.Errorf("status %d, X-Trace-ID %q", resp.StatusCode, resp.Header.Get(xTraceIDHeader))
	}

	// Over maxHeaderBytes: net/http answers 431 itself, before the router.
	req.Header.Set("X-Trace-ID", strings.Repeat("x", 2*maxHeaderBytes))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("oversized headers: status %d, want 431", resp.StatusCode)
		}
	}
	assertLinesMatchSchema(t, schema, svc.logs.String())
}

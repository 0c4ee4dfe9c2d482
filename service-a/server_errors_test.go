package main

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestHTTPVersions is docs/contract.md, "Input rules", for the version of the
// request line, over a real connection: net/http refuses a major version but
// 1 before the router, the router HTTP/1.2; both answer the same JSON 505.
func TestHTTPVersions(t *testing.T) {
	svc := newTestService(t, testConfig(nil, nil))
	logger := newLogger(svc.logs, "service-a", slog.LevelDebug)
	server := httptest.NewUnstartedServer(svc.router)
	server.Config = newHTTPServer(svc.router, logger)
	server.Listener = jsonServerErrors(server.Listener, "service-a", logger)
	server.Start()
	defer server.Close()

	tests := []struct {
		version    string
		wantStatus int
		wantSpan   bool // whether the router answered (a span exists, otel_trace_id is in the body)
	}{
		{"HTTP/1.1", 200, true},
		{"HTTP/1.0", 200, true},
		{"HTTP/1.2", 505, true},
		{"HTTP/2.0", 505, false},
		{"HTTP/0.9", 505, false},
		{"HTTP/3.0", 505, false},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			resp, body := rawExchange(t, server.Listener.Addr().String(),
				"GET /api/process "+tt.version+"\r\nHost: x\r\nConnection: close\r\n\r\n")
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.wantStatus, body)
			}
			var fields map[string]any
			if err := json.Unmarshal(body, &fields); err != nil {
				t.Fatalf("body is not JSON: %q", body)
			}
			if fields["service"] != "service-a" || fields["trace_id"] != resp.Header.Get(xTraceIDHeader) {
				t.Errorf("body %v, headers %v: want service-a and the X-Trace-ID", fields, resp.Header)
			}
			if _, hasSpan := fields["otel_trace_id"]; hasSpan != tt.wantSpan {
				t.Errorf("otel_trace_id in the body: %v, want %v", hasSpan, tt.wantSpan)
			}
			if tt.wantStatus == 505 && (fields["error"] != "http_version_not_supported" || fields["message"] == "") {
				t.Errorf("body %v, want error http_version_not_supported with a message", fields)
			}
		})
	}
	// Every answer has its request line in the log, the refused ones too.
	if lines := svc.linesWithMessage(t, "request completed"); len(lines) != len(tests) {
		t.Errorf("%d request lines, want %d: %v", len(lines), len(tests), lines)
	}
}

// rawExchange writes one request as given and reads the answer.
func rawExchange(t *testing.T, address, request string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", address)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace/noop"
)

func newTestDownstreamClient() *downstreamClient {
	return newDownstreamClient(500*time.Millisecond, slog.New(slog.DiscardHandler),
		noop.NewTracerProvider(), propagation.TraceContext{})
}

// TestGetJSONClassifiesAnswers checks what getJSON adds to every call's
// bounds (docs/contract.md, "Endpoints"): a 2xx answer that is not JSON is
// invalid_response. The codes every call gets (the callee's, bad_status,
// timeout, invalid_response over 1 MiB) are rows of the e2e table
// tests/e2e/test_57_outbound_bounds.py, run against all three services.
func TestGetJSONClassifiesAnswers(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantCode string // "" for success
	}{
		{"JSON object", `{"result":"processed"}` + "\n", ""},
		{"2xx not JSON", "<html>ok</html>", "invalid_response"},
		{"2xx empty", "", "invalid_response"},
		{"2xx JSON then garbage", `{"a":1} trailing`, "invalid_response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, tt.body)
			}))
			defer server.Close()

			got := newTestDownstreamClient().getJSON(context.Background(), server.URL)

			if got.code != tt.wantCode || got.status != http.StatusOK {
				t.Errorf("code %q status %d, want %q 200", got.code, got.status, tt.wantCode)
			}
		})
	}
}

func TestGetJSONUnreachable(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_ = closed.Close()

	got := newTestDownstreamClient().getJSON(context.Background(), "http://"+closed.Addr().String()+"/")

	if got.code != "unreachable" || got.status != 0 || mustJSON(got) != `{"error":"unreachable","status":null}` {
		t.Errorf("got %s (code %q, status %d)", mustJSON(got), got.code, got.status)
	}
}

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

// TestGetJSONClassifiesAnswers checks the codes `results` reports for each
// kind of answer (docs/contract.md, "Endpoints"): the callee's own error
// code, else bad_status for any status but 2xx, invalid_response for a 2xx
// answer that is not JSON.
func TestGetJSONClassifiesAnswers(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		stall    bool   // hold the rest of the body back until the caller gives up
		wantCode string // "" for success
	}{
		{"JSON object", 200, `{"result":"processed"}` + "\n", false, ""},
		{"2xx not JSON", 200, "<html>ok</html>", false, "invalid_response"},
		{"2xx empty", 200, "", false, "invalid_response"},
		{"2xx JSON then garbage", 200, `{"a":1} trailing`, false, "invalid_response"},
		{"error with the callee's code", 500, `{"error":"simulated_failure"}`, false, "simulated_failure"},
		{"error with a JSON body but no code", 500, `{}`, false, "bad_status"},
		{"error with an HTML body", 502, "<html>Bad Gateway</html>", false, "bad_status"},
		{"error with an empty body", 503, "", false, "bad_status"},
		{"a redirect with a JSON body", 302, `{"moved":true}`, false, "bad_status"},
		{"deadline passes mid-body", 200, `{"result":`, true, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
				if tt.stall {
					w.(http.Flusher).Flush()
					<-r.Context().Done()
				}
			}))
			defer server.Close()

			got := newTestDownstreamClient().getJSON(context.Background(), server.URL)

			if got.code != tt.wantCode || got.status != tt.status {
				t.Errorf("code %q status %d, want %q %d (err %v)", got.code, got.status, tt.wantCode, tt.status, got.err)
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

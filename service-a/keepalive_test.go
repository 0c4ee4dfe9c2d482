package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// gatewayIdleTimeout is nginx's upstream keepalive_timeout (its default).
const gatewayIdleTimeout = 60 * time.Second

// startLimitedServer runs the real server settings with closeConnectionsAfter(limit).
func startLimitedServer(t *testing.T, limit int) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{}`) })
	srv := newHTTPServer(handler, slog.New(slog.DiscardHandler))
	closeConnectionsAfter(srv, limit)
	go func() { _ = srv.Serve(listener) }()
	t.Cleanup(func() { _ = srv.Close() })
	return listener.Addr().String()
}

// A limit of 0 is no limit (docs/contract.md, "Environment"); the default
// limit is tests/e2e/test_55_keep_alive.py's, on every service's own port.
func TestNoLimitKeepsTheConnection(t *testing.T) {
	conn, err := net.Dial("tcp", startLimitedServer(t, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	reader := bufio.NewReader(conn)
	for n := 1; n <= 20; n++ {
		_, _ = io.WriteString(conn, "GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
		resp, err := http.ReadResponse(reader, nil)
		if err != nil {
			t.Fatalf("request %d: %v", n, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.Close {
			t.Fatalf("answer %d closes the connection with no limit set", n)
		}
	}
}

// TestDownstreamClientRedials: after a server's "Connection: close" the
// client opens a new connection (so it resolves the name again) and no call
// fails.
func TestDownstreamClientRedials(t *testing.T) {
	var opened atomic.Int64
	server := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{}`)
	}))
	server.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			opened.Add(1)
		}
	}
	closeConnectionsAfter(server.Config, 2)
	server.Start()
	defer server.Close()

	client := newTestDownstreamClient()
	for n := 1; n <= 5; n++ {
		if result := client.getJSON(context.Background(), server.URL); !result.ok() {
			t.Fatalf("call %d failed: %s", n, result.code)
		}
	}
	if got := opened.Load(); got != 3 {
		t.Errorf("5 calls with 2 per connection opened %d connections, want 3", got)
	}
}

// A client lets go of an idle connection before the server it talks to does.
func TestIdleTimeoutsOrdered(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	if srv.IdleTimeout <= gatewayIdleTimeout || srv.IdleTimeout <= clientIdleTimeout {
		t.Errorf("server idle timeout %v, want longer than the gateway's %v and the services' %v",
			srv.IdleTimeout, gatewayIdleTimeout, clientIdleTimeout)
	}
}

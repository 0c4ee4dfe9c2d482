package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// servingTest runs serve on a loopback port with a handler that holds each
// request until release is closed.
type servingTest struct {
	addr     string
	started  chan struct{} // one value per request that reached the handler
	release  chan struct{}
	shutdown context.CancelFunc // what SIGTERM does through signal.NotifyContext
	done     chan error         // serve's result
	logs     *syncBuffer
}

func startServing(t *testing.T, drain time.Duration) *servingTest {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &servingTest{
		addr:    listener.Addr().String(),
		started: make(chan struct{}, 1),
		release: make(chan struct{}),
		done:    make(chan error, 1),
		logs:    &syncBuffer{},
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.started <- struct{}{}
		<-s.release
		_, _ = io.WriteString(w, "done")
	})
	logger := newLogger(s.logs, "service-a", slog.LevelInfo)
	ctx, cancel := context.WithCancel(context.Background())
	s.shutdown = cancel
	go func() { s.done <- serve(ctx, newHTTPServer(handler, logger), listener, drain, logger) }()
	return s
}

// request sends GET / and reports the body, or the error, on the channel.
func (s *servingTest) request() <-chan string {
	answered := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + s.addr + "/")
		if err != nil {
			answered <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		answered <- string(body)
	}()
	return answered
}

func (s *servingTest) refusesConnections() bool {
	conn, err := net.DialTimeout("tcp", s.addr, 100*time.Millisecond)
	if err != nil {
		return true
	}
	_ = conn.Close()
	return false
}

// receive waits for one value, failing the test after within.
func receive[T any](t *testing.T, ch <-chan T, within time.Duration) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(within):
		t.Fatal("nothing received in time")
		panic("unreachable")
	}
}

// TestServeDrainsInFlightRequests is the SIGTERM path: stop accepting, let
// the running request finish, return nil (exit 0).
func TestServeDrainsInFlightRequests(t *testing.T) {
	s := startServing(t, 5*time.Second)
	answered := s.request()
	receive(t, s.started, 2*time.Second)

	s.shutdown()
	pollUntil(t, "the listener to close", 2*time.Second, s.refusesConnections)
	close(s.release)

	if got := receive(t, answered, 2*time.Second); got != "done" {
		t.Errorf("in-flight request got %q, want it to finish", got)
	}
	if err := receive(t, s.done, 2*time.Second); err != nil {
		t.Errorf("serve returned %v, want nil", err)
	}
}

// A request that outlives the drain is cut off; shutdown still succeeds.
func TestServeGivesUpAfterDrainTimeout(t *testing.T) {
	s := startServing(t, 50*time.Millisecond)
	defer close(s.release)
	answered := s.request()
	receive(t, s.started, 2*time.Second)

	s.shutdown()

	if err := receive(t, s.done, 2*time.Second); err != nil {
		t.Errorf("serve returned %v, want nil", err)
	}
	if got := receive(t, answered, 2*time.Second); !strings.HasPrefix(got, "error:") {
		t.Errorf("stuck request got %q, want its connection closed", got)
	}
	if !strings.Contains(s.logs.String(), "drain incomplete") {
		t.Errorf("no drain warning logged:\n%s", s.logs)
	}
}

// Serve failing on its own (not a shutdown) is reported.
func TestServeReportsListenerFailure(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_ = listener.Close()
	logger := newLogger(io.Discard, "service-a", slog.LevelInfo)
	if err := serve(context.Background(), newHTTPServer(http.NotFoundHandler(), logger), listener, time.Second, logger); err == nil {
		t.Error("serve on a closed listener returned nil")
	}
}

// TestIncompleteRequestsAreBounded: a client that announces more than it
// sends must get an answer (never a 5xx) or a closed connection within the
// server's read timeouts, never hold the connection forever
// (docs/contract.md, "Input rules", body framing). It runs the real server
// settings, so it takes about bodyReadTimeout.
func TestIncompleteRequestsAreBounded(t *testing.T) {
	// Loose on purpose: the bound proven is "within the timeout, plus a busy
	// machine's scheduling", against "forever".
	const margin = 5 * time.Second
	tests := []struct {
		name       string
		request    string
		wantStatus int    // 0: any status below 500, or the connection closed
		wantError  string // the JSON error code, when wantStatus is set
	}{
		{name: "POST /test body shorter than Content-Length",
			request:    "POST /test HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n[]",
			wantStatus: 400, wantError: "invalid_body"},
		{name: "POST /test chunked body that stops mid-chunk",
			request:    "POST /test HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n[]",
			wantStatus: 400, wantError: "invalid_body"},
		{name: "POST /test malformed chunk size",
			request:    "POST /test HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n[]\r\n0\r\n\r\n",
			wantStatus: 400, wantError: "invalid_body"},
		{name: "GET with a body shorter than Content-Length",
			request: "GET /health HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc"},
		{name: "headers that never end",
			request: "GET /health HTTP/1.1\r\nHost: a\r\nX-Slow: 1\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc := newTestService(t, testConfig(nil, nil))
			listener, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			srv := newHTTPServer(svc.router, newLogger(svc.logs, "service-a", slog.LevelDebug))
			go func() { _ = srv.Serve(listener) }()
			t.Cleanup(func() { _ = srv.Close() })

			conn, err := net.Dial("tcp", listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tt.request); err != nil {
				t.Fatal(err)
			}
			// The client keeps the connection open and sends nothing more.
			bound := srv.ReadTimeout + margin
			_ = conn.SetReadDeadline(time.Now().Add(bound))
			start := time.Now()
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)

			var netErr net.Error
			switch {
			case errors.As(err, &netErr) && netErr.Timeout():
				t.Fatalf("no answer and no close within %v: the request hangs", bound)
			case err != nil && tt.wantStatus != 0:
				t.Fatalf("connection closed after %v without the expected %d: %v", time.Since(start), tt.wantStatus, err)
			case err != nil:
				return // closed: an accepted outcome
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode >= 500 || (tt.wantStatus != 0 && resp.StatusCode != tt.wantStatus) {
				t.Fatalf("status %d after %v: %s", resp.StatusCode, time.Since(start), body)
			}
			if tt.wantError != "" && !strings.Contains(string(body), `"error":"`+tt.wantError+`"`) {
				t.Errorf("body %s, want error %s", body, tt.wantError)
			}
		})
	}
}

// The read timeouts are the contract's bound, not just any bound.
func TestServerReadTimeouts(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler(), newLogger(io.Discard, "service-a", slog.LevelInfo))
	if srv.ReadTimeout <= 0 || srv.ReadTimeout > 10*time.Second {
		t.Errorf("ReadTimeout %v, want at most the contract's 10 s", srv.ReadTimeout)
	}
	if srv.ReadHeaderTimeout <= 0 || srv.ReadHeaderTimeout > srv.ReadTimeout {
		t.Errorf("ReadHeaderTimeout %v, want positive and at most ReadTimeout", srv.ReadHeaderTimeout)
	}
}

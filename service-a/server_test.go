package main

import (
	"context"
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

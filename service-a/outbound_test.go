package main

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// hostileServer answers the way a broken or hostile target of POST /test
// might, and records the path and Authorization header of every request.
type hostileServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []string // "path" or "path Authorization"
}

// dripFor bounds how long a dripping answer goes on: far beyond any call's
// deadline here, so a call that is not cut waits it out and fails the test.
const dripFor = 5 * time.Second

func newHostileServer(t *testing.T) *hostileServer {
	h := &hostileServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("/redirect-302", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/landed", http.StatusFound)
	})
	mux.HandleFunc("/redirect-307", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/landed", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/exactly-1MiB", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("a", maxResponseBytes)))
	})
	mux.HandleFunc("/1MiB-and-1", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("a", maxResponseBytes+1)))
	})
	mux.HandleFunc("/drip-body", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		drip(func() error {
			_, err := w.Write([]byte("a"))
			w.(http.Flusher).Flush()
			return err
		}, r)
	})
	mux.HandleFunc("/stall-body", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		_, _ = w.Write([]byte("a"))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(dripFor):
		}
	})
	mux.HandleFunc("/drip-headers", func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nX-Drip: ")
		drip(func() error { return writeFlush(buf, "a") }, r)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("{}"))
	})
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record := r.URL.Path
		if auth := r.Header.Get("Authorization"); auth != "" {
			record += " " + auth
		}
		h.mu.Lock()
		h.requests = append(h.requests, record)
		h.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(h.Close)
	return h
}

// drip sends one byte every 50 ms until the client leaves or dripFor passes.
func drip(send func() error, r *http.Request) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	stop := time.After(dripFor)
	for {
		select {
		case <-tick.C:
			if send() != nil {
				return
			}
		case <-r.Context().Done():
			return
		case <-stop:
			return
		}
	}
}

func writeFlush(buf *bufio.ReadWriter, s string) error {
	if _, err := buf.WriteString(s); err != nil {
		return err
	}
	return buf.Flush()
}

func (h *hostileServer) recorded() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.requests)
}

// TestOutboundCallBounds: docs/contract.md, "Outbound calls" and the URL rule
// of "Input rules", through POST /test (DOWNSTREAM_TIMEOUT_MS 500 here).
func TestOutboundCallBounds(t *testing.T) {
	tests := []struct {
		name string
		// url is JSON string content; {host} is the hostile server's host:port.
		url        string
		wantAnswer int // POST /test's status
		// The failed call's logged reason and status; "" when the call
		// succeeded or was never made.
		wantReason     string
		wantCallStatus any // float64 as decoded from JSON, nil for null
		wantRequests   []string // what the hostile server received
	}{
		{name: "302 is not followed", url: "http://{host}/redirect-302",
			wantAnswer: 200, wantReason: "bad_status", wantCallStatus: 302, wantRequests: []string{"/redirect-302"}},
		{name: "307 is not followed", url: "http://{host}/redirect-307",
			wantAnswer: 200, wantReason: "bad_status", wantCallStatus: 307, wantRequests: []string{"/redirect-307"}},
		{name: "an answer of exactly 1 MiB is read", url: "http://{host}/exactly-1MiB",
			wantAnswer: 200, wantRequests: []string{"/exactly-1MiB"}},
		{name: "an answer over 1 MiB is cut", url: "http://{host}/1MiB-and-1",
			wantAnswer: 200, wantReason: "invalid_response", wantCallStatus: 200, wantRequests: []string{"/1MiB-and-1"}},
		{name: "a dripping body is cut at the deadline", url: "http://{host}/drip-body",
			wantAnswer: 200, wantReason: "timeout", wantCallStatus: 200, wantRequests: []string{"/drip-body"}},
		{name: "a stalled body is cut at the deadline", url: "http://{host}/stall-body",
			wantAnswer: 200, wantReason: "timeout", wantCallStatus: 200, wantRequests: []string{"/stall-body"}},
		{name: "dripping headers are cut at the deadline", url: "http://{host}/drip-headers",
			wantAnswer: 200, wantReason: "timeout", wantCallStatus: nil, wantRequests: []string{"/drip-headers"}},
		{name: "a password that is a lone surrogate", url: `http://u:\ud800@{host}/credentials`,
			wantAnswer: 400, wantRequests: nil},
		{name: "a password that is a percent-encoded euro sign", url: "http://u:%E2%82%AC@{host}/credentials",
			wantAnswer: 400, wantRequests: nil},
		{name: "a user name alone", url: "http://user@{host}/credentials",
			wantAnswer: 400, wantRequests: nil},
		{name: "an empty user info is no credential", url: "http://:@{host}/no-credentials",
			wantAnswer: 200, wantRequests: []string{"/no-credentials"}},
	}
	const deadline = 500 * time.Millisecond
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHostileServer(t)
			svc := newTestService(t, testConfig(nil, nil)) // DownstreamTimeout: deadline
			url := strings.ReplaceAll(tt.url, "{host}", strings.TrimPrefix(h.URL, "http://"))
			req := httptest.NewRequest(http.MethodPost, "/test", strings.NewReader(`[{"url": "`+url+`", "arguments": []}]`))

			start := time.Now()
			rec := svc.serve(req)
			elapsed := time.Since(start)

			if rec.Code != tt.wantAnswer {
				t.Fatalf("POST /test answered %d, want %d: %s", rec.Code, tt.wantAnswer, rec.Body)
			}
			if tt.wantAnswer == 400 {
				if body := decodeBody(t, rec); body["error"] != "invalid_body" {
					t.Errorf("error %v, want invalid_body", body["error"])
				}
			}
			// Generous for a busy machine, and far below dripFor.
			if elapsed > deadline+1500*time.Millisecond {
				t.Errorf("the call took %s, its deadline is %s", elapsed, deadline)
			}
			if got := h.recorded(); !slices.Equal(got, tt.wantRequests) {
				t.Errorf("the target received %q, want %q", got, tt.wantRequests)
			}
			failures := svc.linesWithMessage(t, "conformance call failed")
			switch {
			case tt.wantReason == "" && len(failures) != 0:
				t.Errorf("the call failed: %v", failures)
			case tt.wantReason != "" && len(failures) != 1:
				t.Errorf("%d failure lines, want 1", len(failures))
			case tt.wantReason != "":
				got := fmt.Sprint(failures[0]["error"], " ", failures[0]["downstream_status"])
				if want := fmt.Sprint(tt.wantReason, " ", tt.wantCallStatus); got != want {
					t.Errorf("the call failed with %q, want %q", got, want)
				}
			}
		})
	}
}

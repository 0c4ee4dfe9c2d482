package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// harness stands in for the W3C test suite's server: it records the
// trace-context headers and body of every call it receives.
type harness struct {
	*httptest.Server
	mu    sync.Mutex
	calls []harnessCall
}

type harnessCall struct {
	path        string
	traceparent []string
	tracestate  []string
	body        string
}

func newHarness(t *testing.T) *harness {
	h := &harness{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.calls = append(h.calls, harnessCall{r.URL.Path, r.Header.Values("traceparent"), r.Header.Values("tracestate"), string(body)})
		h.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(h.Close)
	return h
}

// recorded returns a copy of the calls received so far.
func (h *harness) recorded() []harnessCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.calls)
}

// TestConformanceEndpointRejectsBadBodies keeps the bodies no e2e row sends:
// a body far over the cap and a declared length over it. Every other body
// rule is a row of tests/e2e/test_50_bad_input.py, for all three services;
// the calls themselves are tests/e2e/test_40_outbound_traceparent.py's.
func TestConformanceEndpointRejectsBadBodies(t *testing.T) {
	tests := []struct {
		name          string
		body          string
		contentLength int64 // declared length when it differs from the body's; 0: the body's
		wantStatus    int
		wantError     string
	}{
		{name: "1 MiB", body: `[{"url": "http://127.0.0.1:1/", "arguments": ["` + strings.Repeat("a", 1<<20) + `"]}]`,
			wantStatus: 413, wantError: "body_too_large"},
		{name: "Content-Length over 64 KiB", body: "[]", contentLength: maxConformanceBody + 1, wantStatus: 413, wantError: "body_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := newTestService(t, testConfig(nil, nil))
			req := httptest.NewRequest(http.MethodPost, "/test", strings.NewReader(tt.body))
			if tt.contentLength != 0 {
				req.ContentLength = tt.contentLength
			}
			rec := svc.serve(req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %.300s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantError != "" {
				if body := decodeBody(t, rec); body["error"] != tt.wantError {
					t.Errorf("error %v, want %s", body["error"], tt.wantError)
				}
			}
			if n := len(svc.clientSpans()); n != 0 {
				t.Errorf("%d calls made", n)
			}
		})
	}
}

package main

import (
	"encoding/json"
	"fmt"
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

func TestConformanceEndpoint(t *testing.T) {
	h := newHarness(t)
	svc := newTestService(t, testConfig(nil, nil))
	const incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	body := fmt.Sprintf(`[
		{"url": "%[1]s/one", "arguments": [{"url": "http://example.invalid/", "arguments": []}]},
		{"url": "%[1]s/two", "arguments": []},
		{"url": "%[1]s/three", "arguments": []}
	]`, h.URL)
	req := httptest.NewRequest(http.MethodPost, "/test", strings.NewReader(body))
	req.Header.Set("traceparent", incoming)
	// Two list-members in two lines with an empty line between them.
	req.Header["Tracestate"] = []string{"congo=t61rcWkgMzE", "", "rojo=00f067aa0ba902b7"}

	rec := svc.serve(req)

	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != "[]" {
		t.Fatalf("answer %d %s, want 200 []", rec.Code, rec.Body)
	}
	calls := h.recorded()
	if len(calls) != 3 {
		t.Fatalf("harness got %d calls, want 3", len(calls))
	}

	clients := svc.clientSpans()
	if len(clients) != 3 {
		t.Fatalf("%d client spans, want 3", len(clients))
	}
	seenParents := map[string]bool{}
	for i, call := range calls {
		if want := []string{"/one", "/two", "/three"}[i]; call.path != want {
			t.Errorf("call %d went to %s, want %s (in order)", i, call.path, want)
		}
		if len(call.traceparent) != 1 {
			t.Fatalf("call %d carried %d traceparent headers, want exactly 1", i, len(call.traceparent))
		}
		parts := strings.Split(call.traceparent[0], "-")
		if len(parts) != 4 || parts[1] != "0af7651916cd43dd8448eb211c80319c" {
			t.Errorf("call %d traceparent %q does not continue the incoming trace", i, call.traceparent[0])
			continue
		}
		if parts[2] != clients[i].SpanContext().SpanID().String() {
			t.Errorf("call %d parent %s is not its own client span %s", i, parts[2], clients[i].SpanContext().SpanID())
		}
		seenParents[parts[2]] = true
		if want := "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"; len(call.tracestate) != 1 || call.tracestate[0] != want {
			t.Errorf("call %d tracestate %q, want [%q]", i, call.tracestate, want)
		}
	}
	if len(seenParents) != 3 {
		t.Errorf("parent ids %v, want 3 distinct", seenParents)
	}

	var args any
	if err := json.Unmarshal([]byte(calls[0].body), &args); err != nil || mustJSON(args) != `[{"arguments":[],"url":"http://example.invalid/"}]` {
		t.Errorf("first call body %q, want the entry's arguments", calls[0].body)
	}
}

func TestConformanceEndpointRejectsBadBodies(t *testing.T) {
	entry := `{"url": "http://127.0.0.1:1/", "arguments": []}`
	tests := []struct {
		name          string
		body          string
		contentLength int64 // declared length when it differs from the body's; 0: the body's
		wantStatus    int
		wantError     string
	}{
		{name: "empty", body: "", wantStatus: 400, wantError: "invalid_body"},
		{name: "not JSON", body: "{{", wantStatus: 400, wantError: "invalid_body"},
		{name: "an object", body: `{"url": "http://127.0.0.1:1/"}`, wantStatus: 400, wantError: "invalid_body"},
		{name: "null", body: "null", wantStatus: 400, wantError: "invalid_body"},
		{name: "a string entry", body: `["http://127.0.0.1:1/"]`, wantStatus: 400, wantError: "invalid_body"},
		{name: "missing url", body: `[{"arguments": []}]`, wantStatus: 400, wantError: "invalid_body"},
		{name: "non-http url", body: `[{"url": "file:///etc/passwd", "arguments": []}]`, wantStatus: 400, wantError: "invalid_body"},
		{name: "arguments not a list", body: `[{"url": "http://127.0.0.1:1/", "arguments": "notalist"}]`, wantStatus: 400, wantError: "invalid_body"},
		{name: "arguments an object", body: `[{"url": "http://127.0.0.1:1/", "arguments": {"a": 1}}]`, wantStatus: 400, wantError: "invalid_body"},
		{name: "arguments null", body: `[{"url": "http://127.0.0.1:1/", "arguments": null}]`, wantStatus: 400, wantError: "invalid_body"},
		{name: "missing arguments", body: `[{"url": "http://127.0.0.1:1/"}]`, wantStatus: 400, wantError: "invalid_body"},
		{name: "keys in another case", body: `[{"URL": "http://127.0.0.1:1/", "Arguments": []}]`, wantStatus: 400, wantError: "invalid_body"},
		{name: "a url that is not a string", body: `[{"url": 1, "arguments": []}]`, wantStatus: 400, wantError: "invalid_body"},
		{name: "a null entry", body: `[null]`, wantStatus: 400, wantError: "invalid_body"},
		{name: "trailing data", body: `[] []`, wantStatus: 400, wantError: "invalid_body"},
		{name: "too many calls", body: "[" + strings.Repeat(entry+",", maxConformanceCalls) + entry + "]", wantStatus: 400, wantError: "invalid_body"},
		{name: "64 KiB and 1 byte", body: "[]" + strings.Repeat(" ", maxConformanceBody-1), wantStatus: 413, wantError: "body_too_large"},
		{name: "1 MiB", body: `[{"url": "http://127.0.0.1:1/", "arguments": ["` + strings.Repeat("a", 1<<20) + `"]}]`,
			wantStatus: 413, wantError: "body_too_large"},
		{name: "Content-Length over 64 KiB", body: "[]", contentLength: maxConformanceBody + 1, wantStatus: 413, wantError: "body_too_large"},
		{name: "exactly 64 KiB is accepted", body: "[]" + strings.Repeat(" ", maxConformanceBody-2), wantStatus: 200},
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

// A call that fails (nothing listens) is logged; the endpoint still answers.
func TestConformanceEndpointSurvivesFailedCalls(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()

	svc := newTestService(t, testConfig(nil, nil))
	rec := svc.serve(httptest.NewRequest(http.MethodPost, "/test",
		strings.NewReader(`[{"url": "`+deadURL+`/", "arguments": []}]`)))

	if rec.Code != 200 {
		t.Fatalf("status %d, want 200", rec.Code)
	}
	if n := len(svc.linesWithMessage(t, "conformance call failed")); n != 1 {
		t.Errorf("%d failure log lines, want 1", n)
	}
}

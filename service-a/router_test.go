package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestStrictRouting is docs/contract.md, "Input rules", for methods and
// paths: 501 for a method no service implements, one spelling per route,
// 405 with Allow for a known path's other methods, all decided before
// X-Hop-Count is read. Which of them are traced (none whose decoded path is
// /health) is e2e test_86_health_not_traced's table, for all three services.
func TestStrictRouting(t *testing.T) {
	tests := []struct {
		method, target string
		header         http.Header
		wantStatus     int
		wantError      string // "" for a route's own answer
		wantAllow      string // "" when no Allow header is expected
	}{
		{method: "HEAD", target: "/api/process?fail=true", wantStatus: 500, wantError: "simulated_failure"},
		{method: "POST", target: "/test", wantStatus: 400, wantError: "invalid_body"}, // routed; empty body
		{method: "GET", target: "/no/such/route", wantStatus: 404, wantError: "not_found"},
		{method: "GET", target: "/health/", wantStatus: 404, wantError: "not_found"},
		{method: "GET", target: "/Health", wantStatus: 404, wantError: "not_found"},
		{method: "GET", target: "/API/PROCESS", wantStatus: 404, wantError: "not_found"},
		{method: "POST", target: "/TEST", wantStatus: 404, wantError: "not_found"},
		{method: "GET", target: "//health", wantStatus: 404, wantError: "not_found"},
		{method: "GET", target: "/api//process", wantStatus: 404, wantError: "not_found"},
		{method: "GET", target: "/api/./process", wantStatus: 404, wantError: "not_found"},
		{method: "GET", target: "/api/demo/../process", wantStatus: 404, wantError: "not_found"},
		{method: "GET", target: "/health;jsessionid=1", wantStatus: 404, wantError: "not_found"},
		{method: "GET", target: "/api;x=1/process", wantStatus: 404, wantError: "not_found"},
		{method: "GET", target: "/api%2fprocess", wantStatus: 404, wantError: "not_found"},
		{method: "GET", target: "/api/%2e/process", wantStatus: 404, wantError: "not_found"},
		{method: "GET", target: "/api/demo/%2e%2e/process", wantStatus: 404, wantError: "not_found"},
		{method: "POST", target: "/api/process", wantStatus: 405, wantError: "method_not_allowed", wantAllow: "GET, HEAD"},
		{method: "DELETE", target: "/health", wantStatus: 405, wantError: "method_not_allowed", wantAllow: "GET, HEAD"},
		{method: "OPTIONS", target: "/api/demo/parallel", wantStatus: 405, wantError: "method_not_allowed", wantAllow: "GET, HEAD"},
		{method: "GET", target: "/test", wantStatus: 405, wantError: "method_not_allowed", wantAllow: "POST"},
		{method: "OPTIONS", target: "/no/such/route", wantStatus: 404, wantError: "not_found"},
		// A method no service implements, on any path (CONNECT is for proxies).
		{method: "CONNECT", target: "/api/process", wantStatus: 501, wantError: "not_implemented"},
		{method: "PROPFIND", target: "/api/process", wantStatus: 501, wantError: "not_implemented"},
		{method: "FOO", target: "/no/such/route", wantStatus: 501, wantError: "not_implemented"},
		{method: "get", target: "/health", wantStatus: 501, wantError: "not_implemented"},
		{method: "TRACE", target: "/health", wantStatus: 405, wantError: "method_not_allowed", wantAllow: "GET, HEAD"},
		// Method and path come before X-Hop-Count.
		{method: "FOO", target: "/health", header: http.Header{hopCountHeader: {"x"}}, wantStatus: 501, wantError: "not_implemented"},
		{method: "GET", target: "/nowhere", header: http.Header{hopCountHeader: {"999"}}, wantStatus: 404, wantError: "not_found"},
		{method: "POST", target: "/health", header: http.Header{hopCountHeader: {"x"}}, wantStatus: 405, wantError: "method_not_allowed", wantAllow: "GET, HEAD"},
		{method: "GET", target: "/health", header: http.Header{hopCountHeader: {"x"}}, wantStatus: 400, wantError: "invalid_hop_count"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			svc := newTestService(t, testConfig(nil, nil))
			req := httptest.NewRequest(tt.method, tt.target, nil)
			for key, values := range tt.header {
				req.Header[key] = values
			}

			rec := svc.serve(req)

			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if got := rec.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow %q, want %q", got, tt.wantAllow)
			}
			body := decodeBody(t, rec)
			if tt.wantError != "" && (body["error"] != tt.wantError || body["message"] == "") {
				t.Errorf("body %v, want error %q with a message", body, tt.wantError)
			}
			if tt.target == healthRoute { // never traced: no server span to compare
				return
			}
			server := svc.serverSpan(t)
			assertCommonBody(t, body, rec, server)
			switch tt.wantError {
			case "not_found", "method_not_allowed":
				assertServerFailure(t, server, "")
			case "not_implemented":
				assertServerFailure(t, server, tt.wantError)
			}
		})
	}
}

// TestHeadAnswersLikeGet sends GET and HEAD over a real connection, where
// net/http drops a HEAD answer's body: same status and headers, no body.
func TestHeadAnswersLikeGet(t *testing.T) {
	svc := newTestService(t, testConfig(nil, nil))
	server := httptest.NewServer(svc.router)
	defer server.Close()

	for _, target := range []string{"/health", "/api/process", "/api/process?fail=true", "/api/process?delay_ms=abc"} {
		t.Run(target, func(t *testing.T) {
			get := mustDo(t, http.MethodGet, server.URL+target)
			head := mustDo(t, http.MethodHead, server.URL+target)

			if head.status != get.status {
				t.Errorf("HEAD status %d, GET %d", head.status, get.status)
			}
			for _, key := range []string{"Content-Type", "Content-Length", xTraceIDHeader, traceresponseHeader} {
				if (head.header.Get(key) == "") != (get.header.Get(key) == "") {
					t.Errorf("%s: HEAD %q, GET %q", key, head.header.Get(key), get.header.Get(key))
				}
			}
			if head.body != "" || get.body == "" {
				t.Errorf("HEAD body %q, GET body %q; want none and some", head.body, get.body)
			}
		})
	}
}

type answer struct {
	status int
	header http.Header
	body   string
}

func mustDo(t *testing.T, method, url string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, string(body)}
}

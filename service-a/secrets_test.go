package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// TestSecretsNeverStored sends credentials in headers and query strings,
// through server and client spans (one call failing), and looks for them where
// this service is the last word (docs/contract.md, "Secrets never stored"): no
// header reaches a span, no log line carries a query string. Query values do
// reach the spans; the Collector redacts them (tests/e2e/test_65_secrets.py).
func TestSecretsNeverStored(t *testing.T) {
	h := newHarness(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()

	headerSecrets := []string{"S3CR3T-AUTH", "S3CR3T-COOKIE", "S3CR3T-PROXY"}
	querySecrets := []string{"S3CR3T-QUERY", "S3CR3T-CALL", "S3CR3T-FAILED"}
	credentials := http.Header{
		"Authorization":       {"Bearer S3CR3T-AUTH"},
		"Cookie":              {"session=S3CR3T-COOKIE"},
		"Proxy-Authorization": {"Basic S3CR3T-PROXY"},
	}
	tests := []struct{ name, method, target, body string }{
		{name: "server span", method: http.MethodGet, target: "/api/process?token=S3CR3T-QUERY&delay_ms=0"},
		{name: "server and client spans", method: http.MethodPost, target: "/test?Access_Token=S3CR3T-QUERY",
			body: fmt.Sprintf(`[{"url": "%[1]s/one?x=1&api_key=S3CR3T-CALL", "arguments": []},
				{"url": "%[2]s/gone?Sig=S3CR3T-FAILED", "arguments": []}]`, h.URL, deadURL)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := newTestService(t, testConfig(nil, nil))
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			for key, values := range credentials {
				req.Header[key] = values
			}
			if rec := svc.serve(req); rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}

			for _, span := range svc.spans.Ended() {
				stored := spanText(span)
				for _, secret := range headerSecrets {
					if strings.Contains(stored, secret) {
						t.Errorf("span %q stores %s:\n%s", span.Name(), secret, stored)
					}
				}
			}
			logs := svc.logs.String()
			for _, secret := range append(headerSecrets, querySecrets...) {
				if strings.Contains(logs, secret) {
					t.Errorf("the log holds %s:\n%s", secret, logs)
				}
			}
			for _, line := range svc.logLines(t) {
				for key, value := range line {
					if text, ok := value.(string); ok && strings.Contains(text, "?") {
						t.Errorf("log field %s carries a query string: %q", key, text)
					}
				}
			}
		})
	}
}

// spanText is everything a span would export, as text.
func spanText(span sdktrace.ReadOnlySpan) string {
	return mustJSON(map[string]any{
		"name": span.Name(), "attributes": span.Attributes(), "events": span.Events(),
		"status": span.Status(), "links": span.Links(),
	})
}

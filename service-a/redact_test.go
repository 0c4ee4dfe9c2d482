package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"no query", "http://h/p", "http://h/p"},
		{"no credential", "http://h/p?delay_ms=5&fail=true", "http://h/p?delay_ms=5&fail=true"},
		{"token", "http://h/p?token=abc", "http://h/p?token=REDACTED"},
		{"every listed name",
			"/p?token=1&access_token=2&refresh_token=3&id_token=4&password=5&passwd=6&pwd=7&secret=8&client_secret=9" +
				"&api_key=10&apikey=11&key=12&sig=13&signature=14&auth=15&credential=16&session=17",
			"/p?token=REDACTED&access_token=REDACTED&refresh_token=REDACTED&id_token=REDACTED&password=REDACTED" +
				"&passwd=REDACTED&pwd=REDACTED&secret=REDACTED&client_secret=REDACTED&api_key=REDACTED&apikey=REDACTED" +
				"&key=REDACTED&sig=REDACTED&signature=REDACTED&auth=REDACTED&credential=REDACTED&session=REDACTED"},
		{"any case", "http://h/p?Token=a&API_KEY=b&Sig=c", "http://h/p?Token=REDACTED&API_KEY=REDACTED&Sig=REDACTED"},
		{"order and other parameters kept", "http://h/p?z=1&password=x&a=2", "http://h/p?z=1&password=REDACTED&a=2"},
		{"escaped name", "http://h/p?%74oken=abc", "http://h/p?%74oken=REDACTED"},
		{"escaped value", "http://h/p?token=a%20b%26c", "http://h/p?token=REDACTED"},
		{"repeated", "http://h/p?key=1&key=2", "http://h/p?key=REDACTED&key=REDACTED"},
		{"semicolon separator", "http://h/p?a=1;secret=x", "http://h/p?a=1;secret=REDACTED"},
		{"empty value", "http://h/p?token=", "http://h/p?token=REDACTED"},
		{"name without value", "http://h/p?token&x=1", "http://h/p?token&x=1"},
		{"look-alike names kept", "http://h/p?tokens=1&my_key=2&keyboard=3", "http://h/p?tokens=1&my_key=2&keyboard=3"},
		{"fragment kept", "http://h/p?sig=abc#top", "http://h/p?sig=REDACTED#top"},
		{"question mark in the value", "http://h/p?next=/a?token=x&token=y", "http://h/p?next=/a?token=x&token=REDACTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redactURL(tt.in); got != tt.want {
				t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	if got := redactQuery("a=1&Password=x"); got != "a=1&Password=REDACTED" {
		t.Errorf("redactQuery: %q", got)
	}
}

// TestSecretsNeverStored sends credentials every way a request can carry
// them, through both server and client spans, and looks for them in every
// span and every log line (docs/contract.md, "Secrets never stored").
func TestSecretsNeverStored(t *testing.T) {
	h := newHarness(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()

	secrets := []string{"S3CR3T-QUERY", "S3CR3T-AUTH", "S3CR3T-COOKIE", "S3CR3T-PROXY", "S3CR3T-CALL", "S3CR3T-FAILED"}
	credentials := http.Header{
		"Authorization":       {"Bearer S3CR3T-AUTH"},
		"Cookie":              {"session=S3CR3T-COOKIE"},
		"Proxy-Authorization": {"Basic S3CR3T-PROXY"},
	}
	tests := []struct {
		name, method, target, body string
		wantClientURLs             []string // url.full of the client spans, in order
	}{
		{name: "server span", method: http.MethodGet, target: "/api/process?token=S3CR3T-QUERY&delay_ms=0"},
		{name: "server and client spans", method: http.MethodPost, target: "/test?Access_Token=S3CR3T-QUERY",
			body: fmt.Sprintf(`[{"url": "%[1]s/one?x=1&api_key=S3CR3T-CALL", "arguments": []},
				{"url": "%[2]s/gone?Sig=S3CR3T-FAILED", "arguments": []}]`, h.URL, deadURL),
			wantClientURLs: []string{h.URL + "/one?x=1&api_key=REDACTED", deadURL + "/gone?Sig=REDACTED"}},
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

			var clientURLs []string
			for _, span := range svc.clientSpans() {
				full, _ := attributeValue(span, "url.full")
				clientURLs = append(clientURLs, full.AsString())
			}
			if strings.Join(clientURLs, " ") != strings.Join(tt.wantClientURLs, " ") {
				t.Errorf("client url.full %q, want %q", clientURLs, tt.wantClientURLs)
			}
			for _, span := range svc.spans.Ended() {
				stored := spanText(span)
				for _, secret := range secrets {
					if strings.Contains(stored, secret) {
						t.Errorf("span %q stores %s:\n%s", span.Name(), secret, stored)
					}
				}
			}
			logs := svc.logs.String()
			for _, secret := range secrets {
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

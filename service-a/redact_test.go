package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// credentialRule is the contract's list and table of examples, shared with
// the other services and the Collector.
type credentialRule struct {
	Names []string `json:"names"`
	Cases []struct {
		Why, Text, Redacted string
	} `json:"cases"`
}

func loadCredentialRule(t *testing.T) credentialRule {
	t.Helper()
	raw, err := os.ReadFile("../observability/credential-redaction.json")
	if err != nil {
		t.Fatal(err)
	}
	var rule credentialRule
	if err := json.Unmarshal(raw, &rule); err != nil {
		t.Fatal(err)
	}
	return rule
}

func TestCredentialListIsTheContracts(t *testing.T) {
	rule := loadCredentialRule(t)
	listed := slices.Sorted(maps.Keys(credentialParams))
	if want := slices.Sorted(slices.Values(rule.Names)); !slices.Equal(listed, want) {
		t.Errorf("credentialParams %q, the contract lists %q", listed, want)
	}
}

func TestRedact(t *testing.T) {
	for _, tt := range loadCredentialRule(t).Cases {
		t.Run(tt.Why, func(t *testing.T) {
			if got := redact(tt.Text); got != tt.Redacted {
				t.Errorf("redact(%q) = %q, want %q", tt.Text, got, tt.Redacted)
			}
		})
	}
	for name := range credentialParams {
		for _, spelling := range []string{name, strings.ToUpper(name)} {
			if got := redact(spelling + "=S3CR3T"); got != spelling+"=REDACTED" {
				t.Errorf("redact(%q=S3CR3T) = %q", spelling, got)
			}
		}
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

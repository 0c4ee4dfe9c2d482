package main

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// clientCall is an expected CLIENT span: where it went, the HTTP status it
// got (0: no response) and whether it is ERROR.
type clientCall struct {
	to     string
	status int
	err    bool
}

// TestEndpoints drives the service-a answers that no e2e row reaches against
// fake service-b and service-c: the answer and the span tree. The demo
// scenarios themselves (parallel, sequential, hop limit, failure/*) are
// tests/e2e/test_10_scenarios.py's rows, through the real services.
func TestEndpoints(t *testing.T) {
	tests := []struct {
		name   string
		target string
		header http.Header

		wantStatus int
		wantBody   string // JSON object; each of its keys must match the answer
		// wantErrorType is the server span's error.type; "" means the span
		// must not be ERROR nor carry an exception event.
		wantErrorType string
		wantCalls     []clientCall // made strictly one after the other
		wantB, wantC  []string
	}{
		{
			name: "process", target: "/api/process",
			wantStatus: 200, wantBody: `{"result":"processed","delay_ms":0,"hop_count":0}`,
		},
		{
			name: "process forced to fail", target: "/api/process?fail=true",
			wantStatus: 500, wantBody: `{"error":"simulated_failure"}`,
			wantErrorType: "simulated_failure",
		},
		{
			name: "parallel forced to fail locally", target: "/api/demo/parallel?fail=true",
			wantStatus: 500, wantBody: `{"error":"simulated_failure"}`,
			wantErrorType: "simulated_failure",
		},
		{
			name: "failure/chain without failure", target: "/api/demo/failure/chain?fail_at=0",
			wantStatus: 200,
			wantBody: `{"results":{"step-1":{"service":"service-b","result":"processed"},
				"step-2":{"service":"service-c","result":"processed"},"step-3":{"service":"service-b","result":"processed"}}}`,
			wantCalls: []clientCall{{"service-b", 200, false}, {"service-c", 200, false}, {"service-b", 200, false}},
			wantB:     []string{"/api/process", "/api/process"}, wantC: []string{"/api/process"},
		},
		{
			name: "failure/chain with a bad fail_at", target: "/api/demo/failure/chain?fail_at=4",
			wantStatus: 400, wantBody: `{"error":"invalid_parameter"}`,
		},
		{
			name: "failure/chain with fail_at given twice", target: "/api/demo/failure/chain?fail_at=1&fail_at=1",
			wantStatus: 400, wantBody: `{"error":"invalid_parameter"}`,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, c := newFakeDownstream(t, "service-b"), newFakeDownstream(t, "service-c")
			svc := newTestService(t, testConfig(b, c))

			rec := svc.get(tt.target, tt.header)

			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			server := svc.serverSpan(t)
			body := decodeBody(t, rec)
			assertCommonBody(t, body, rec, server)
			assertBodyContains(t, body, tt.wantBody)
			assertServerFailure(t, server, tt.wantErrorType)
			assertClientCalls(t, svc, server, map[string]string{b.URL: "service-b", c.URL: "service-c"}, tt.wantCalls)

			if got := b.requests(); !slices.Equal(got, tt.wantB) {
				t.Errorf("service-b received %q, want %q", got, tt.wantB)
			}
			if got := c.requests(); !slices.Equal(got, tt.wantC) {
				t.Errorf("service-c received %q, want %q", got, tt.wantC)
			}
		})
	}
}

// assertCommonBody checks the fields every JSON answer carries.
func assertCommonBody(t *testing.T, body map[string]any, rec interface{ Header() http.Header }, server sdktrace.ReadOnlySpan) {
	t.Helper()
	if body["service"] != "service-a" {
		t.Errorf("service = %v", body["service"])
	}
	if want := rec.Header().Get(xTraceIDHeader); body["trace_id"] != want || want == "" {
		t.Errorf("trace_id = %v, X-Trace-ID header %q", body["trace_id"], want)
	}
	if want := server.SpanContext().TraceID().String(); body["otel_trace_id"] != want {
		t.Errorf("otel_trace_id = %v, want %s", body["otel_trace_id"], want)
	}
}

// assertBodyContains compares each key of the JSON object want with body.
func assertBodyContains(t *testing.T, body map[string]any, want string) {
	t.Helper()
	if want == "" {
		return
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(want), &fields); err != nil {
		t.Fatalf("bad test table: %v", err)
	}
	for key, value := range fields {
		if !reflect.DeepEqual(body[key], value) {
			got, _ := json.Marshal(body[key])
			t.Errorf("body[%q] = %s, want %s", key, got, mustJSON(value))
		}
	}
}

func mustJSON(v any) string {
	out, _ := json.Marshal(v)
	return string(out)
}

// assertServerFailure checks the contract's failure marks on the server
// span: ERROR status, an exception event and error.type, or none of them.
func assertServerFailure(t *testing.T, span sdktrace.ReadOnlySpan, wantErrorType string) {
	t.Helper()
	exceptions := len(eventsNamed(span, "exception"))
	errorType, _ := attributeValue(span, "error.type")
	if wantErrorType == "" {
		if span.Status().Code == codes.Error || exceptions > 0 || errorType.AsString() != "" {
			t.Errorf("server span marked failed: status %v, %d exception events, error.type %q",
				span.Status(), exceptions, errorType.AsString())
		}
		return
	}
	if span.Status().Code != codes.Error {
		t.Errorf("server span status %v, want Error", span.Status())
	}
	if exceptions != 1 {
		t.Errorf("server span has %d exception events, want 1", exceptions)
	}
	if errorType.AsString() != wantErrorType {
		t.Errorf("server span error.type %q, want %q", errorType.AsString(), wantErrorType)
	}
}

// assertClientCalls checks the CLIENT spans: children of the server span,
// going where expected, with the expected status and ERROR flag, one after
// the other.
func assertClientCalls(t *testing.T, svc *testService, server sdktrace.ReadOnlySpan, names map[string]string, want []clientCall) {
	t.Helper()
	spans := svc.clientSpans()
	if len(spans) != len(want) {
		t.Fatalf("%d client spans, want %d", len(spans), len(want))
	}
	got := make([]clientCall, len(spans))
	for i, span := range spans {
		if span.Parent().SpanID() != server.SpanContext().SpanID() {
			t.Errorf("client span %d is not a child of the server span", i)
		}
		url, _ := attributeValue(span, "url.full")
		status, _ := attributeValue(span, "http.response.status_code")
		for base, name := range names {
			if strings.HasPrefix(url.AsString(), base+"/") {
				got[i].to = name
			}
		}
		got[i].status = int(status.AsInt64())
		got[i].err = span.Status().Code == codes.Error
	}
	if !slices.Equal(got, want) {
		t.Errorf("client calls %+v, want %+v", got, want)
	}
	for i := 1; i < len(spans); i++ {
		if spans[i].StartTime().Before(spans[i-1].EndTime()) {
			t.Errorf("client span %d started before span %d ended", i, i-1)
		}
	}
}

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

// TestEndpoints drives every service-a endpoint against fake service-b and
// service-c and checks the answer and the span tree that
// scenarios/scenarios.json expects for it.
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
		wantCalls     []clientCall
		wantOrdered   bool // calls strictly one after the other (else: overlapping)
		wantB, wantC  []string
	}{
		{
			name: "process", target: "/api/process",
			wantStatus: 200, wantBody: `{"result":"processed","delay_ms":0,"hop_count":0}`,
		},
		{
			name: "process forced to succeed", target: "/api/process?fail=false&delay_ms=5",
			wantStatus: 200, wantBody: `{"result":"processed","delay_ms":5}`,
		},
		{
			name: "process clamps a negative delay", target: "/api/process?delay_ms=-40",
			wantStatus: 200, wantBody: `{"delay_ms":0}`,
		},
		{
			name: "process forced to fail", target: "/api/process?fail=true",
			wantStatus: 500, wantBody: `{"error":"simulated_failure"}`,
			wantErrorType: "simulated_failure",
		},
		{
			name: "process with a bad delay_ms", target: "/api/process?delay_ms=abc",
			wantStatus: 400, wantBody: `{"error":"invalid_parameter"}`,
		},
		{
			name: "process with a bad fail", target: "/api/process?fail=maybe",
			wantStatus: 400, wantBody: `{"error":"invalid_parameter"}`,
		},
		{
			name: "parallel", target: "/api/demo/parallel",
			wantStatus: 200,
			wantBody:   `{"results":{"service-b":{"service":"service-b","result":"processed"},"service-c":{"service":"service-c","result":"processed"}}}`,
			wantCalls:  []clientCall{{"service-b", 200, false}, {"service-c", 200, false}},
			wantB:      []string{"/api/process"}, wantC: []string{"/api/process"},
		},
		{
			name: "parallel forced to fail locally", target: "/api/demo/parallel?fail=true",
			wantStatus: 500, wantBody: `{"error":"simulated_failure"}`,
			wantErrorType: "simulated_failure",
		},
		{
			name: "sequential", target: "/api/demo/sequential",
			wantStatus:  200,
			wantBody:    `{"results":{"service-b":{"service":"service-b","result":"processed"},"service-c":{"service":"service-c","result":"processed"}}}`,
			wantCalls:   []clientCall{{"service-b", 200, false}, {"service-c", 200, false}},
			wantOrdered: true,
			wantB:       []string{"/api/process"}, wantC: []string{"/api/process"},
		},
		{
			name: "hop limit reached downstream", target: "/api/demo/parallel",
			header:     http.Header{"X-Hop-Count": {"5"}},
			wantStatus: 502,
			wantBody: `{"error":"downstream_failed","failed":["service-b","service-c"],
				"results":{"service-b":{"error":"loop_detected","status":508},"service-c":{"error":"loop_detected","status":508}}}`,
			wantErrorType: "downstream_failed",
			wantCalls:     []clientCall{{"service-b", 508, true}, {"service-c", 508, true}},
			wantB:         []string{"/api/process"}, wantC: []string{"/api/process"},
		},
		{
			name: "failure/timeout", target: "/api/demo/failure/timeout",
			wantStatus: 504,
			wantBody: `{"error":"downstream_timeout","failed":["service-c"],
				"results":{"service-b":{"service":"service-b","result":"processed"},"service-c":{"error":"timeout","status":null}}}`,
			wantErrorType: "downstream_timeout",
			wantCalls:     []clientCall{{"service-b", 200, false}, {"service-c", 0, true}},
			// testConfig sets DOWNSTREAM_TIMEOUT_MS to 500.
			wantB: []string{"/api/process"}, wantC: []string{"/api/process?delay_ms=1500"},
		},
		{
			name: "failure/partial", target: "/api/demo/failure/partial",
			wantStatus: 200,
			wantBody: `{"degraded":true,"failed":["service-c"],
				"results":{"service-b":{"service":"service-b","result":"processed"},"service-c":{"error":"simulated_failure","status":500}}}`,
			wantCalls: []clientCall{{"service-b", 200, false}, {"service-c", 500, true}},
			wantB:     []string{"/api/process"}, wantC: []string{"/api/process?fail=true"},
		},
		{
			name: "failure/cascade", target: "/api/demo/failure/cascade",
			wantStatus:    502,
			wantBody:      `{"error":"downstream_failed","results":{"service-b":{"error":"downstream_failed","status":502}}}`,
			wantErrorType: "downstream_failed",
			wantCalls:     []clientCall{{"service-b", 502, true}},
			wantB:         []string{"/api/cascade"},
		},
		{
			name: "failure/chain fails at step 2 by default", target: "/api/demo/failure/chain",
			wantStatus: 502,
			wantBody: `{"error":"downstream_failed","failed_step":"step-2",
				"results":{"step-1":{"service":"service-b","result":"processed"},"step-2":{"error":"simulated_failure","status":500}}}`,
			wantErrorType: "downstream_failed",
			wantCalls:     []clientCall{{"service-b", 200, false}, {"service-c", 500, true}},
			wantOrdered:   true,
			wantB:         []string{"/api/process"}, wantC: []string{"/api/process?fail=true"},
		},
		{
			name: "failure/chain fails at step 3", target: "/api/demo/failure/chain?fail_at=3",
			wantStatus: 502, wantBody: `{"failed_step":"step-3"}`,
			wantErrorType: "downstream_failed",
			wantCalls:     []clientCall{{"service-b", 200, false}, {"service-c", 200, false}, {"service-b", 500, true}},
			wantOrdered:   true,
			wantB:         []string{"/api/process", "/api/process?fail=true"}, wantC: []string{"/api/process"},
		},
		{
			name: "failure/chain without failure", target: "/api/demo/failure/chain?fail_at=0",
			wantStatus: 200,
			wantBody: `{"results":{"step-1":{"service":"service-b","result":"processed"},
				"step-2":{"service":"service-c","result":"processed"},"step-3":{"service":"service-b","result":"processed"}}}`,
			wantCalls:   []clientCall{{"service-b", 200, false}, {"service-c", 200, false}, {"service-b", 200, false}},
			wantOrdered: true,
			wantB:       []string{"/api/process", "/api/process"}, wantC: []string{"/api/process"},
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
			if len(tt.wantCalls) > 1 && !tt.wantOrdered {
				b.meeting = newMeeting(len(tt.wantCalls))
				c.meeting = b.meeting
			}
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
			assertClientCalls(t, svc, server, map[string]string{b.URL: "service-b", c.URL: "service-c"}, tt.wantCalls, tt.wantOrdered)

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
// going where expected, with the expected status and ERROR flag, and
// overlapping in time or strictly ordered.
func assertClientCalls(t *testing.T, svc *testService, server sdktrace.ReadOnlySpan, names map[string]string, want []clientCall, ordered bool) {
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
		if got[i].err && got[i].status == 0 && len(eventsNamed(span, "exception")) != 1 {
			t.Errorf("failed client span %d has no exception event", i)
		}
	}
	if !ordered { // concurrent calls start in any order
		byTarget := func(a, b clientCall) int { return strings.Compare(a.to, b.to) }
		slices.SortFunc(got, byTarget)
		want = slices.Clone(want)
		slices.SortFunc(want, byTarget)
	}
	if !slices.Equal(got, want) {
		t.Errorf("client calls %+v, want %+v", got, want)
	}

	for i := 1; i < len(spans); i++ {
		previousEnd, start := spans[i-1].EndTime(), spans[i].StartTime()
		if ordered && start.Before(previousEnd) {
			t.Errorf("client span %d started before span %d ended", i, i-1)
		}
		if !ordered && !start.Before(previousEnd) {
			t.Errorf("client span %d did not overlap span %d", i, i-1)
		}
	}
}

package main

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/codes"
)

var mintedXTraceID = regexp.MustCompile(`^trace-\d{8}T\d{6}Z-[0-9a-f]{8}$`)

func TestResolveXTraceID(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 40, 12, 0, time.UTC)
	tests := []struct {
		name     string
		incoming string
		keep     bool
	}{
		{"gateway format", "trace-20261125T004012Z-1a2b3c4d", true},
		{"plain with allowed punctuation", "order:42.retry_1-b", true},
		{"64 characters", strings.Repeat("a", 64), true},
		{"absent", "", false},
		{"65 characters", strings.Repeat("a", 65), false},
		{"leading punctuation", "-abc", false},
		{"space", "abc def", false},
		{"quotes and newline", "a\"b\nc", false},
		{"10 KB", strings.Repeat("x", 10*1024), false},
		{"non-ASCII", "trace-é", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := resolveXTraceID(tt.incoming, now)
			if tt.keep && got != tt.incoming {
				t.Errorf("got %q, want the incoming value kept", got)
			}
			if !tt.keep && !strings.HasPrefix(got, "trace-20261125T004012Z-") {
				t.Errorf("got %q, want a minted id", got)
			}
			if !validXTraceID.MatchString(got) {
				t.Errorf("result %q breaks the X-Trace-ID rule", got)
			}
		})
	}
}

// TestXTraceIDTravels checks that the resolved X-Trace-ID reaches the
// response header, the body, the server span, every log line of the request
// and the outbound call.
func TestXTraceIDTravels(t *testing.T) {
	tests := []struct {
		name     string
		incoming string
		keep     bool
	}{
		{"valid value kept", "trace-20261125T004012Z-1a2b3c4d", true},
		{"absent value minted", "", false},
		{"hostile value replaced", "\"}{\"level\":\"ERROR\"\r\ninjected", false},
		{"oversized value replaced", strings.Repeat("y", 10*1024), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newFakeDownstream(t, "service-b")
			svc := newTestService(t, testConfig(b, b))
			header := http.Header{}
			if tt.incoming != "" {
				header.Set(xTraceIDHeader, tt.incoming)
			}

			rec := svc.get("/api/demo/sequential", header)

			id := rec.Header().Get(xTraceIDHeader)
			if tt.keep && id != tt.incoming {
				t.Fatalf("X-Trace-ID %q, want %q", id, tt.incoming)
			}
			if !tt.keep && !mintedXTraceID.MatchString(id) {
				t.Fatalf("X-Trace-ID %q, want a minted id", id)
			}
			if got := decodeBody(t, rec)["trace_id"]; got != id {
				t.Errorf("body trace_id %v, want %q", got, id)
			}
			if got, _ := attributeValue(svc.serverSpan(t), "app.x_trace_id"); got.AsString() != id {
				t.Errorf("app.x_trace_id %q, want %q", got.AsString(), id)
			}
			for _, line := range svc.logLines(t) {
				if line["x_trace_id"] != id {
					t.Errorf("log line %q has x_trace_id %v, want %q", line["message"], line["x_trace_id"], id)
				}
			}
			for _, h := range b.headers() {
				if got := h.Values(xTraceIDHeader); len(got) != 1 || got[0] != id {
					t.Errorf("outbound X-Trace-ID %q, want [%q]", got, id)
				}
			}
		})
	}
}

func TestTraceresponseHeader(t *testing.T) {
	for _, target := range []string{"/api/process", "/api/process?fail=true", "/no/such/route"} {
		t.Run(target, func(t *testing.T) {
			svc := newTestService(t, testConfig(nil, nil))
			rec := svc.get(target, nil)

			sc := svc.serverSpan(t).SpanContext()
			want := "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-01"
			if got := rec.Header().Values(traceresponseHeader); len(got) != 1 || got[0] != want {
				t.Errorf("traceresponse %q, want [%q]", got, want)
			}
		})
	}
}

func TestHopLimit(t *testing.T) {
	tests := []struct {
		name         string
		hopCount     []string // header lines; nil: absent
		wantStatus   int
		wantError    string // also the server span's error.type for 5xx
		wantOutbound string // X-Hop-Count sent downstream; "" if no call
	}{
		{name: "absent counts as 0", wantStatus: 200, wantOutbound: "1"},
		{name: "zero", hopCount: []string{"0"}, wantStatus: 200, wantOutbound: "1"},
		{name: "below the limit", hopCount: []string{"4"}, wantStatus: 200, wantOutbound: "5"},
		// Still served here; the downstreams refuse hop 6 (scenario hop-limit).
		{name: "at the limit", hopCount: []string{"5"}, wantStatus: 502, wantError: "downstream_failed", wantOutbound: "6"},
		{name: "over the limit", hopCount: []string{"6"}, wantStatus: 508, wantError: "loop_detected"},
		{name: "leading zeros allowed", hopCount: []string{"004"}, wantStatus: 200, wantOutbound: "5"},
		{name: "leading zeros over the limit", hopCount: []string{"006"}, wantStatus: 508, wantError: "loop_detected"},
		{name: "four digits with leading zero", hopCount: []string{"0001"}, wantStatus: 400, wantError: "invalid_hop_count"},
		{name: "two lines, one empty", hopCount: []string{"1", ""}, wantStatus: 400, wantError: "invalid_hop_count"},
		// net/http trims white space around a header value read off the
		// wire; a value that still has some is refused.
		{name: "surrounding space", hopCount: []string{" 1"}, wantStatus: 400, wantError: "invalid_hop_count"},
		{name: "hex", hopCount: []string{"0x1"}, wantStatus: 400, wantError: "invalid_hop_count"},
		{name: "non-ASCII digit", hopCount: []string{"\u0661"}, wantStatus: 400, wantError: "invalid_hop_count"},
		{name: "overflowing number", hopCount: []string{strings.Repeat("9", 40)}, wantStatus: 400, wantError: "invalid_hop_count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, c := newFakeDownstream(t, "service-b"), newFakeDownstream(t, "service-c")
			svc := newTestService(t, testConfig(b, c))

			rec := svc.get("/api/demo/parallel", http.Header{hopCountHeader: tt.hopCount})

			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if got := decodeBody(t, rec)["error"]; tt.wantError != "" && got != tt.wantError {
				t.Errorf("error %v, want %q", got, tt.wantError)
			}
			for _, fake := range []*fakeDownstream{b, c} {
				var outbound []string
				for _, h := range fake.headers() {
					outbound = append(outbound, h.Values(hopCountHeader)...)
				}
				if want := tt.wantOutbound; (want == "" && len(outbound) != 0) || (want != "" && strings.Join(outbound, ",") != want) {
					t.Errorf("X-Hop-Count sent to %s: %q, want %q", fake.name, outbound, want)
				}
			}

			server := svc.serverSpan(t)
			if rec.Code >= 500 {
				assertServerFailure(t, server, tt.wantError)
			} else {
				assertServerFailure(t, server, "")
			}
			if tt.wantStatus != 400 {
				want := 0
				if len(tt.hopCount) > 0 {
					want, _ = strconv.Atoi(tt.hopCount[0])
				}
				if got, ok := attributeValue(server, "app.hop_count"); !ok || got.AsInt64() != int64(want) {
					t.Errorf("app.hop_count %v (present %v), want %d", got.AsInt64(), ok, want)
				}
			}
		})
	}
}

// TestConflictingTraceparent checks the whole path: the strict propagator
// refuses conflicting values (new trace) and the middleware reports them,
// bounded: a count, events for the first 8 values cut to 256 characters, one
// WARN line without the values.
func TestConflictingTraceparent(t *testing.T) {
	const (
		parentA = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
		parentB = "00-11111111111111111111111111111111-2222222222222222-01"
	)
	hostile := "\"}\n" + strings.Repeat("z", 10*1024)
	many := make([]string, 20) // 20 distinct conflicting values
	for i := range many {
		many[i] = fmt.Sprintf("00-%032x-%016x-01", i+1, i+1)
	}
	tests := []struct {
		name         string
		traceparent  []string
		wantParent   string   // trace id continued; "" for a new root
		wantCount    int      // app.traceparent.rejected_count and the log's rejected_count
		wantRejected []string // the event values, in order
	}{
		{name: "single value", traceparent: []string{parentA}, wantParent: "0af7651916cd43dd8448eb211c80319c"},
		{name: "identical duplicate lines", traceparent: []string{parentA, parentA}, wantParent: "0af7651916cd43dd8448eb211c80319c"},
		{name: "identical comma-joined", traceparent: []string{parentA + ", " + parentA}, wantParent: "0af7651916cd43dd8448eb211c80319c"},
		{name: "conflicting lines", traceparent: []string{parentA, parentB}, wantCount: 2, wantRejected: []string{parentA, parentB}},
		{name: "conflicting comma-joined", traceparent: []string{parentB + "," + parentA}, wantCount: 2, wantRejected: []string{parentB, parentA}},
		{name: "a repeated value among conflicting ones counts once", traceparent: []string{parentA, parentB, parentA},
			wantCount: 2, wantRejected: []string{parentA, parentB}},
		{name: "hostile value cut to 256 characters", traceparent: []string{parentA, hostile},
			wantCount: 2, wantRejected: []string{parentA, hostile[:256]}},
		{name: "multi-byte value cut on characters", traceparent: []string{parentA, strings.Repeat("é", 300)},
			wantCount: 2, wantRejected: []string{parentA, strings.Repeat("é", 256)}},
		{name: "20 values: all counted, 8 recorded", traceparent: many, wantCount: 20, wantRejected: many[:8]},
		{name: "20 values comma-joined", traceparent: []string{strings.Join(many, ",")}, wantCount: 20, wantRejected: many[:8]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := newTestService(t, testConfig(nil, nil))
			rec := svc.get("/api/process", http.Header{"Traceparent": tt.traceparent})
			if rec.Code != 200 {
				t.Fatalf("status %d", rec.Code)
			}

			server := svc.serverSpan(t)
			rejections := eventsNamed(server, "app.traceparent.rejected")
			warnings := svc.linesWithMessage(t, "rejected conflicting traceparent headers")
			count, counted := attributeValue(server, "app.traceparent.rejected_count")

			if tt.wantParent != "" {
				if got := server.Parent().TraceID().String(); got != tt.wantParent || server.SpanContext().TraceID().String() != tt.wantParent {
					t.Errorf("parent trace %s, want %s", got, tt.wantParent)
				}
				if len(rejections) != 0 || len(warnings) != 0 || counted {
					t.Errorf("%d rejection events, %d warnings, count attribute %v; want none", len(rejections), len(warnings), counted)
				}
				return
			}

			if server.Parent().IsValid() {
				t.Errorf("server span has parent %s, want a new root", server.Parent().SpanID())
			}
			for _, value := range tt.traceparent {
				if strings.Contains(value, server.SpanContext().TraceID().String()) {
					t.Errorf("new trace id %s reuses an incoming one", server.SpanContext().TraceID())
				}
			}
			if !counted || count.AsInt64() != int64(tt.wantCount) {
				t.Errorf("app.traceparent.rejected_count %v (present %v), want %d", count.AsInt64(), counted, tt.wantCount)
			}
			var got []string
			for _, event := range rejections {
				for _, kv := range event.Attributes {
					if kv.Key == "app.traceparent.value" {
						got = append(got, kv.Value.AsString())
					}
				}
			}
			if strings.Join(got, "|") != strings.Join(tt.wantRejected, "|") {
				t.Errorf("rejected values %q, want %q", got, tt.wantRejected)
			}
			if len(warnings) != 1 {
				t.Fatalf("warnings %v, want one", warnings)
			}
			want := map[string]any{"level": "WARN", "header": "traceparent", "rejected_count": float64(tt.wantCount)}
			for key, value := range want {
				if warnings[0][key] != value {
					t.Errorf("warning %s = %v, want %v", key, warnings[0][key], value)
				}
			}
			for _, value := range tt.traceparent {
				if strings.Contains(svc.logs.String(), value) {
					t.Errorf("a rejected value reached the log: %.80q", value)
				}
			}
		})
	}
}

func TestPanicBecomesJSON500(t *testing.T) {
	svc := newTestService(t, testConfig(nil, nil))
	svc.router.GET("/panics", func(*gin.Context) { panic("boom") })

	rec := svc.get("/panics", nil)

	if rec.Code != 500 {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	body := decodeBody(t, rec)
	if body["error"] != "internal_error" || strings.Contains(rec.Body.String(), "boom") {
		t.Errorf("body %s: want internal_error without the panic value", rec.Body)
	}
	server := svc.serverSpan(t)
	assertServerFailure(t, server, "internal_error")
	if events := eventsNamed(server, "exception"); len(events) == 0 || !strings.Contains(mustJSON(events[0].Attributes), "boom") {
		t.Errorf("exception events %v do not record the panic value", events)
	}
	if server.Status().Code != codes.Error {
		t.Errorf("server span status %v", server.Status())
	}
	if lines := svc.linesWithMessage(t, "request completed"); len(lines) != 1 || lines[0]["status"] != 500.0 {
		t.Errorf("request log lines %v, want one with status 500", lines)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// maxResponseBytes bounds what is read from a downstream answer: a broken or
// hostile peer must not make this service buffer without limit
// (docs/contract.md, "Outbound calls").
const maxResponseBytes = 1 << 20

// downstreamClient makes every outbound call of service-a. otelhttp's
// Transport gives each call its CLIENT span and injects traceparent and
// tracestate; this code never touches those headers.
type downstreamClient struct {
	http    *http.Client
	timeout time.Duration
	logger  *slog.Logger
}

func newDownstreamClient(timeout time.Duration, logger *slog.Logger, tp trace.TracerProvider, propagator propagation.TextMapPropagator) *downstreamClient {
	base := http.DefaultTransport.(*http.Transport).Clone()
	// Keep every connection a burst opens, so bursts do not pile new
	// connections into B's accept queue (docs/tuning-history.md, service-a).
	base.MaxIdleConnsPerHost = 256
	// The total bound stays above the per-host one (the default 100 is not):
	// POST /test may call a few other hosts as well.
	base.MaxIdleConns = 1024
	// Let go of an idle connection before B or C would close it (they keep
	// one serverIdleTimeout; Go's default, 90 s, is longer).
	base.IdleConnTimeout = clientIdleTimeout
	return &downstreamClient{
		http: &http.Client{
			Transport: otelhttp.NewTransport(
				exceptionRecorder{next: base},
				otelhttp.WithTracerProvider(tp),
				otelhttp.WithPropagators(propagator),
			),
			// A 3xx is the call's answer: POST /test's targets are the
			// caller's to choose, and must not send calls on elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		timeout: timeout,
		logger:  logger,
	}
}

// callResult is the outcome of one downstream call.
type callResult struct {
	status int             // HTTP status, 0 when no response arrived
	body   json.RawMessage // the downstream's JSON body, on success
	code   string          // "" on success, else why the call failed
}

func (r callResult) ok() bool { return r.code == "" }

// MarshalJSON writes the result the way the contract shows it in `results`:
// the downstream body on success, {"error": ..., "status": <int or null>}
// on failure.
func (r callResult) MarshalJSON() ([]byte, error) {
	if r.ok() {
		return r.body, nil
	}
	var status *int
	if r.status != 0 {
		status = &r.status
	}
	return json.Marshal(struct {
		Error  string `json:"error"`
		Status *int   `json:"status"`
	}{r.code, status})
}

// getJSON GETs url and reads its JSON body.
func (d *downstreamClient) getJSON(ctx context.Context, url string) callResult {
	result := d.call(ctx, http.MethodGet, url, nil)
	if result.ok() && !json.Valid(result.body) {
		result.code = "invalid_response"
	}
	if !result.ok() {
		d.logger.WarnContext(ctx, "downstream call failed", result.logAttrs(url)...)
	}
	return result
}

// logAttrs are the fields of a failed call's log line, the same in every
// service (docs/contract.md, "Outbound calls").
func (r callResult) logAttrs(url string) []any {
	var status any
	if r.status != 0 {
		status = r.status
	}
	return []any{"url", loggableURL(url), "error", r.code, "downstream_status", status}
}

// postJSON POSTs payload to url; the answer may be anything.
func (d *downstreamClient) postJSON(ctx context.Context, url string, payload []byte) callResult {
	return d.call(ctx, http.MethodPost, url, bytes.NewReader(payload))
}

// call makes one call under the contract's bounds (docs/contract.md,
// "Outbound calls"): DOWNSTREAM_TIMEOUT_MS for all of it, body included, and
// at most maxResponseBytes of answer. Only a 2xx answer is a success.
func (d *downstreamClient) call(ctx context.Context, method, url string, payload io.Reader) callResult {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()

	resp, err := d.send(ctx, method, url, payload)
	if err != nil {
		return callResult{code: transportFailure(ctx, "unreachable")}
	}
	// Closing a body not read to its end closes the connection too.
	defer resp.Body.Close()

	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	status := resp.StatusCode
	switch {
	case err != nil && ctx.Err() != nil: // the deadline passed (or the client left) mid-body
		return callResult{status: status, code: transportFailure(ctx, "timeout")}
	case len(body) > maxResponseBytes:
		return callResult{status: status, code: "invalid_response"}
	case status < 200 || status > 299:
		// The callee's own error code, or bad_status when its body has none
		// (an empty 503, a proxy's HTML page, a redirect).
		return callResult{status: status, code: downstreamErrorCode(body)}
	case err != nil:
		return callResult{status: status, code: "invalid_response"}
	}
	return callResult{status: status, body: body}
}

// send sets the business headers every outbound call carries: the request's
// X-Trace-ID and X-Hop-Count + 1. Trace context is otelhttp's job.
func (d *downstreamClient) send(ctx context.Context, method, url string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	// No call carries credentials from its URL (docs/contract.md, "Input
	// rules"); net/http would send even an empty "http://@host/" as
	// "Authorization: Basic Og==".
	req.URL.User = nil
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if id := xTraceIDFrom(ctx); id != "" {
		req.Header.Set(xTraceIDHeader, id)
	}
	req.Header.Set(hopCountHeader, strconv.Itoa(hopCountFrom(ctx)+1))
	return d.http.Do(req)
}

// loggableURL is a URL as log lines may carry it: scheme, host and path. The
// query string (where credentials travel) and any user info never reach a
// log line (docs/contract.md, "Secrets never stored").
func loggableURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}).String()
}

// transportFailure names a failure that is not an HTTP status: the per-call
// deadline passing is "timeout" wherever it struck (connect, headers, body).
func transportFailure(ctx context.Context, otherwise string) string {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "timeout"
	case errors.Is(ctx.Err(), context.Canceled):
		return "canceled"
	default:
		return otherwise
	}
}

// downstreamErrorCode reuses the failing service's own error code (all
// services answer errors with the same JSON shape), so `results` says why.
func downstreamErrorCode(body []byte) string {
	var answer struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &answer) == nil && answer.Error != "" {
		return answer.Error
	}
	return "bad_status"
}

// exceptionRecorder sits under otelhttp, where the CLIENT span is current.
// otelhttp marks a failed call ERROR with error.type; this adds the exception
// event the contract asks every failed span to carry.
type exceptionRecorder struct {
	next http.RoundTripper
}

func (t exceptionRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		trace.SpanFromContext(req.Context()).RecordError(err)
	}
	return resp, err
}

package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// The middleware below runs inside otelgin, so the server span already
// exists and is current in c.Request.Context(). router.go fixes the order.

const (
	xTraceIDHeader      = "X-Trace-ID"
	hopCountHeader      = "X-Hop-Count"
	traceresponseHeader = "traceresponse"

	// maxRecordedHeaderValue and maxRecordedRejections bound what a request
	// can put on its span (docs/contract.md, "Duplicate / conflicting
	// traceparent"): one 64 KB header holds thousands of kilobyte-long values.
	maxRecordedHeaderValue = 256 // characters per value
	maxRecordedRejections  = 8   // events per span
)

// identifyRequest gives the request its X-Trace-ID and answers with both
// ids: X-Trace-ID for people, traceresponse (W3C Trace Context Level 2) so
// the gateway can log the trace id of the server span.
func (a *app) identifyRequest(c *gin.Context) {
	ctx := c.Request.Context()
	id := resolveXTraceID(c.GetHeader(xTraceIDHeader), time.Now())
	span := trace.SpanFromContext(ctx)
	span.SetAttributes(attribute.String("app.x_trace_id", id))

	c.Header(xTraceIDHeader, id)
	if sc := span.SpanContext(); sc.IsValid() {
		c.Header(traceresponseHeader, fmt.Sprintf("00-%s-%s-%s", sc.TraceID(), sc.SpanID(), sc.TraceFlags()))
	}
	c.Request = c.Request.WithContext(withXTraceID(ctx, id))
	c.Next()
}

// reportRejectedTraceparents makes the strict propagator's decision visible:
// when it refused conflicting traceparent values (so this span started a new
// trace), the span counts them and keeps the first few as events, and one
// WARN line says so. The values are attacker-controlled: they go on the span
// bounded in number and length, and never into the log.
func (a *app) reportRejectedTraceparents(c *gin.Context) {
	if rejected := rejectedTraceparents(propagation.HeaderCarrier(c.Request.Header)); len(rejected) > 0 {
		ctx := c.Request.Context()
		span := trace.SpanFromContext(ctx)
		span.SetAttributes(attribute.Int("app.traceparent.rejected_count", len(rejected)))
		for _, value := range rejected[:min(len(rejected), maxRecordedRejections)] {
			span.AddEvent("app.traceparent.rejected", trace.WithAttributes(
				attribute.String("app.traceparent.value", excerpt(value, maxRecordedHeaderValue)),
			))
		}
		a.logger.WarnContext(ctx, "rejected conflicting traceparent headers",
			"header", traceparentHeader, "rejected_count", len(rejected))
	}
	c.Next()
}

// healthRoute is polled by compose, Kubernetes and the readiness probe every
// few seconds: a line for each passing check would drown the real traffic.
const healthRoute = "/health"

// logRequest writes the one "request completed" line per request. It runs
// before otelgin ends the span, so the line carries its trace and span ids.
func (a *app) logRequest(c *gin.Context) {
	start := time.Now()
	c.Next()

	status := c.Writer.Status()
	route := c.FullPath()
	if route == healthRoute && status < 400 {
		return // docs/contract.md: health checks that pass are never logged
	}
	if route == "" {
		route = c.Request.URL.Path
	}
	a.logger.Log(c.Request.Context(), levelForStatus(status), "request completed",
		"method", c.Request.Method,
		"route", route,
		"status", status,
		"duration_ms", float64(time.Since(start).Microseconds())/1000,
	)
}

func levelForStatus(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelWarn
	default:
		return slog.LevelInfo
	}
}

// recoverPanic turns a handler panic into a JSON 500 on a failed span,
// instead of a dropped connection and a plain-text stack trace on stderr.
func (a *app) recoverPanic(c *gin.Context) {
	defer func() {
		recovered := recover()
		if recovered == nil {
			return
		}
		if recovered == http.ErrAbortHandler {
			panic(recovered) // net/http's way to abort a response on purpose
		}
		cause, ok := recovered.(error)
		if !ok {
			cause = fmt.Errorf("%v", recovered)
		}
		cause = fmt.Errorf("panic: %w", cause)
		a.logger.ErrorContext(c.Request.Context(), "handler panicked", "error", cause, "stack", string(debug.Stack()))
		a.fail(c, &apiError{
			Status: http.StatusInternalServerError, Code: "internal_error",
			Message: "internal server error", Cause: cause,
		}, nil)
	}()
	c.Next()
}

// enforceHopLimit reads X-Hop-Count (absent = 0) and refuses a request that
// has already travelled more than MAX_HOPS, before any work is done. That
// ends call loops (A -> C -> A ...) instead of letting them run forever.
func (a *app) enforceHopLimit(c *gin.Context) {
	hops, ok := parseHopCount(c.Request.Header.Values(hopCountHeader))
	if !ok {
		a.reject(c, http.StatusBadRequest, "invalid_hop_count",
			"X-Hop-Count must be one header line of 1 to 3 digits")
		return
	}

	ctx := c.Request.Context()
	trace.SpanFromContext(ctx).SetAttributes(attribute.Int("app.hop_count", hops))
	if hops > a.cfg.MaxHops {
		a.fail(c, &apiError{
			Status:  http.StatusLoopDetected,
			Code:    "loop_detected",
			Message: fmt.Sprintf("X-Hop-Count %d exceeds the limit of %d hops", hops, a.cfg.MaxHops),
		}, gin.H{"hop_count": hops})
		return
	}
	c.Request = c.Request.WithContext(withHopCount(ctx, hops))
	c.Next()
}

// validHopCount is the contract's grammar: 1 to 3 ASCII digits, nothing else
// (no sign, no space, not empty). Three digits also keep the number far from
// any overflow.
var validHopCount = regexp.MustCompile(`^[0-9]{1,3}$`)

// parseHopCount applies docs/contract.md, "Input rules", to the header's
// lines: none means 0; more than one line is as invalid as a bad value,
// because two lines would leave the count ambiguous.
func parseHopCount(lines []string) (int, bool) {
	switch {
	case len(lines) == 0:
		return 0, true
	case len(lines) > 1 || !validHopCount.MatchString(lines[0]):
		return 0, false
	}
	hops, err := strconv.Atoi(lines[0])
	return hops, err == nil
}

// notFound and methodNotAllowed keep unknown routes in the JSON contract.
func (a *app) notFound(c *gin.Context) {
	a.reject(c, http.StatusNotFound, "not_found", "no such route")
}

func (a *app) methodNotAllowed(c *gin.Context) {
	a.reject(c, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed on this route")
}

// excerpt makes an untrusted value safe to store: valid UTF-8 (OTLP
// requires it) and at most its first limit characters.
func excerpt(value string, limit int) string {
	value = strings.ToValidUTF8(value, "\uFFFD")
	if utf8.RuneCountInString(value) <= limit {
		return value
	}
	runes := 0
	for i := range value {
		if runes == limit {
			return value[:i]
		}
		runes++
	}
	return value
}

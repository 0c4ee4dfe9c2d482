package main

import (
	"fmt"
	"log/slog"
	"net/http"
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

	// maxRecordedHeaderValue caps a rejected header value copied onto a span:
	// the value is attacker-controlled and may be kilobytes long.
	maxRecordedHeaderValue = 256
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
// trace), each value becomes a span event and one WARN line says so.
func (a *app) reportRejectedTraceparents(c *gin.Context) {
	if rejected := rejectedTraceparents(propagation.HeaderCarrier(c.Request.Header)); len(rejected) > 0 {
		ctx := c.Request.Context()
		span := trace.SpanFromContext(ctx)
		for _, value := range rejected {
			span.AddEvent("app.traceparent.rejected", trace.WithAttributes(
				attribute.String("app.traceparent.value", excerpt(value, maxRecordedHeaderValue)),
			))
		}
		a.logger.WarnContext(ctx, "rejected conflicting traceparent headers",
			"header", traceparentHeader, "rejected_values", len(rejected))
	}
	c.Next()
}

// logRequest writes the one "request completed" line per request. It runs
// before otelgin ends the span, so the line carries its trace and span ids.
func (a *app) logRequest(c *gin.Context) {
	start := time.Now()
	c.Next()

	status := c.Writer.Status()
	route := c.FullPath()
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
	hops := 0
	if raw := strings.TrimSpace(c.GetHeader(hopCountHeader)); raw != "" {
		parsed, err := strconv.Atoi(raw)
		if err != nil || parsed < 0 {
			a.reject(c, http.StatusBadRequest, "invalid_hop_count", "X-Hop-Count must be a non-negative integer")
			return
		}
		hops = parsed
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

// notFound and methodNotAllowed keep unknown routes in the JSON contract.
func (a *app) notFound(c *gin.Context) {
	a.reject(c, http.StatusNotFound, "not_found", "no such route")
}

func (a *app) methodNotAllowed(c *gin.Context) {
	a.reject(c, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed on this route")
}

// excerpt makes an untrusted value safe to store: valid UTF-8 (OTLP
// requires it) and at most limit bytes, cut on a character boundary.
func excerpt(value string, limit int) string {
	value = strings.ToValidUTF8(value, "\uFFFD")
	if len(value) <= limit {
		return value
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(value[cut]) {
		cut--
	}
	return value[:cut] + "…"
}

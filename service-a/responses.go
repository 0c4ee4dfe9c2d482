package main

import (
	"maps"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// apiError is a server-side failure (5xx) answered with the contract's JSON
// error body. Code is both the body's "error" field and the span's
// error.type: otelgin reads it through the ErrorType method.
type apiError struct {
	Status  int
	Code    string
	Message string // safe to show the client
	Cause   error  // what went wrong underneath; recorded on the span, never sent
}

func (e *apiError) Error() string {
	if e.Cause != nil {
		return e.Message + ": " + e.Cause.Error()
	}
	return e.Message
}

func (e *apiError) Unwrap() error { return e.Cause }

// ErrorType is the hook semconv.ErrorType (used by otelgin) looks for.
func (e *apiError) ErrorType() string { return e.Code }

// body starts every JSON response with the fields the contract requires of
// each one: service, trace_id (the X-Trace-ID) and otel_trace_id.
func (a *app) body(c *gin.Context, fields gin.H) gin.H {
	ctx := c.Request.Context()
	body := gin.H{
		"service":       a.cfg.ServiceName,
		"trace_id":      xTraceIDFrom(ctx),
		"otel_trace_id": trace.SpanContextFromContext(ctx).TraceID().String(),
	}
	maps.Copy(body, fields)
	return body
}

// respond writes a JSON response that is not an error.
func (a *app) respond(c *gin.Context, status int, fields gin.H) {
	c.JSON(status, a.body(c, fields))
}

// reject answers a client error (4xx). The request was wrong, this service
// was not, so the server span keeps its status unset.
func (a *app) reject(c *gin.Context, status int, code, message string) {
	c.AbortWithStatusJSON(status, a.body(c, gin.H{"error": code, "message": message}))
}

// fail answers a server-side failure and marks the server span the way the
// contract asks of every failed span: an exception event, ERROR status and
// error.type. c.Error hands the failure to otelgin as well, which derives the
// same status and error.type from it when it closes the span.
func (a *app) fail(c *gin.Context, failure *apiError, fields gin.H) {
	span := trace.SpanFromContext(c.Request.Context())
	span.RecordError(failure)
	span.SetAttributes(semconv.ErrorTypeKey.String(failure.Code))
	span.SetStatus(codes.Error, failure.Message)
	_ = c.Error(failure)

	body := a.body(c, fields)
	body["error"] = failure.Code
	body["message"] = failure.Message
	c.AbortWithStatusJSON(failure.Status, body)
}

package main

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// app holds what the handlers and middleware share.
type app struct {
	cfg        Config
	logger     *slog.Logger
	downstream *downstreamClient
}

// newRouter wires service-a's routes. The tracer provider and propagator are
// parameters, not globals, so tests can hand in their own.
//
// Call gin.SetMode(gin.ReleaseMode) first: in its default debug mode gin
// prints plain-text lines, and every line this process writes must be JSON.
func newRouter(cfg Config, logger *slog.Logger, tp trace.TracerProvider, propagator propagation.TextMapPropagator) *gin.Engine {
	a := &app{
		cfg:        cfg,
		logger:     logger,
		downstream: newDownstreamClient(cfg.DownstreamTimeout, logger, tp, propagator),
	}

	router := gin.New() // not gin.Default(): its logger and recovery write plain text
	strictRouting(router)
	// Client IPs come from the connection, not from spoofable X-Forwarded-For.
	_ = router.SetTrustedProxies(nil)

	// Order matters: otelgin first, so the server span exists for the rest;
	// the log line is written inside the span; panics are caught inside the
	// logger so even they get a log line.
	router.Use(
		otelgin.Middleware(cfg.ServiceName,
			otelgin.WithTracerProvider(tp),
			otelgin.WithPropagators(propagator),
			otelgin.WithFilter(traced),
		),
		a.identifyRequest,
		a.reportRejectedTraceparents,
		a.logRequest,
		a.recoverPanic,
		a.enforceProtocol,
	)
	// 404 and 405 are decided before X-Hop-Count is read (docs/contract.md,
	// "Input rules": version and method, path, then X-Hop-Count), so the hop
	// limit guards the routes only, not these answers.
	router.NoRoute(a.notFound)
	router.NoMethod(a.methodNotAllowed)

	routes := router.Group("", a.enforceHopLimit)
	for _, route := range []struct {
		path    string
		handler gin.HandlerFunc
	}{
		{"/health", a.health},
		{"/api/process", a.process},
		{"/api/demo/parallel", a.parallel},
		{"/api/demo/sequential", a.sequential},
		{"/api/demo/failure/timeout", a.failureTimeout},
		{"/api/demo/failure/partial", a.failurePartial},
		{"/api/demo/failure/cascade", a.failureCascade},
		{"/api/demo/failure/chain", a.failureChain},
	} {
		// HEAD is served wherever GET is: same handler; net/http drops the
		// body of a HEAD answer and keeps its status and headers.
		routes.GET(route.path, route.handler)
		routes.HEAD(route.path, route.handler)
	}
	// Switched off, /test is no route at all: every method gets the 404 of
	// an unknown path (docs/contract.md, "Environment").
	if cfg.ConformanceEndpoint {
		routes.POST("/test", a.conformance)
	}
	return router
}

// traced is otelgin's filter: health checks are never traced
// (docs/contract.md, "Logs"), so the probes polling them every few seconds
// leave no traces in the store. The decoded path, as service-c's
// instrumentation sees no other.
func traced(r *http.Request) bool {
	return r.URL.Path != healthRoute
}

// strictRouting makes each route answer to exactly one spelling
// (docs/contract.md, "Input rules"): gin's conveniences would otherwise
// answer other spellings with a plain-text redirect, before any middleware
// runs (no span, no log line, no JSON), or route them silently.
func strictRouting(router *gin.Engine) {
	router.RedirectTrailingSlash = false // /health/ is not /health
	router.RedirectFixedPath = false     // /HEALTH and /..//health are not /health
	router.RemoveExtraSlash = false      // //health is not /health
	// Match on the path as sent, not as decoded: /api%2Fprocess and
	// /api/%70rocess are other spellings, not /api/process.
	router.UseEscapedPath = true
	router.UnescapePathValues = false
	// Wrong method on a known path: 405 with Allow, which gin computes.
	router.HandleMethodNotAllowed = true
}

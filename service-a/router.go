package main

import (
	"log/slog"

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
	// A trailing-slash redirect is answered before any middleware runs: no
	// span, no log line, no JSON. A 404 JSON is the honest answer instead.
	router.RedirectTrailingSlash = false
	router.HandleMethodNotAllowed = true
	// Client IPs come from the connection, not from spoofable X-Forwarded-For.
	_ = router.SetTrustedProxies(nil)

	// Order matters: otelgin first, so the server span exists for the rest;
	// the log line is written inside the span; panics are caught inside the
	// logger so even they get a log line; the hop limit runs before any work.
	router.Use(
		otelgin.Middleware(cfg.ServiceName,
			otelgin.WithTracerProvider(tp),
			otelgin.WithPropagators(propagator),
		),
		a.identifyRequest,
		a.reportRejectedTraceparents,
		a.logRequest,
		a.recoverPanic,
		a.enforceHopLimit,
	)
	router.NoRoute(a.notFound)
	router.NoMethod(a.methodNotAllowed)

	router.GET("/health", a.health)
	router.GET("/api/process", a.process)
	router.GET("/api/demo/parallel", a.parallel)
	router.GET("/api/demo/sequential", a.sequential)
	router.GET("/api/demo/failure/timeout", a.failureTimeout)
	router.GET("/api/demo/failure/partial", a.failurePartial)
	router.GET("/api/demo/failure/cascade", a.failureCascade)
	router.GET("/api/demo/failure/chain", a.failureChain)
	router.POST("/test", a.conformance)
	return router
}

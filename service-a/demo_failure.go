package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/tracing-demo/service-a/internal/simulate"
)

// The failure scenarios of docs/contract.md. Each one fails on purpose in a
// different way, so its trace shows how that failure looks (see
// scenarios/scenarios.json for the expected span trees).

// failureTimeout: GET /api/demo/failure/timeout asks C to take a second
// longer than this service's per-call timeout, so the call to C times out
// while B answers. Answers 504 with both outcomes.
func (a *app) failureTimeout(c *gin.Context) {
	if _, ok := a.localWork(c); !ok {
		return
	}
	tooSlow := url.Values{"delay_ms": {strconv.FormatInt(a.cfg.DownstreamTimeout.Milliseconds()+1000, 10)}}
	a.respondWithResults(c, a.downstream.callParallel(c.Request.Context(), []call{
		{key: "service-b", url: endpoint(a.cfg.ServiceBURL, "/api/process", nil)},
		{key: "service-c", url: endpoint(a.cfg.ServiceCURL, "/api/process", tooSlow)},
	}))
}

// failurePartial: GET /api/demo/failure/partial makes C fail while B
// answers; the request degrades gracefully: 200, "degraded": true and the
// failed part named. Only when every call fails is the request a failure.
func (a *app) failurePartial(c *gin.Context) {
	if _, ok := a.localWork(c); !ok {
		return
	}
	out := a.downstream.callParallel(c.Request.Context(), []call{
		{key: "service-b", url: endpoint(a.cfg.ServiceBURL, "/api/process", nil)},
		{key: "service-c", url: endpoint(a.cfg.ServiceCURL, "/api/process", url.Values{"fail": {"true"}})},
	})
	failed := out.failed()
	if len(failed) == len(out) {
		a.respondWithResults(c, out)
		return
	}
	a.respond(c, http.StatusOK, gin.H{"results": out, "degraded": len(failed) > 0, "failed": failed})
}

// failureCascade: GET /api/demo/failure/cascade calls B /api/cascade, which
// calls C with fail=true: C 500, B 502, this service 502.
func (a *app) failureCascade(c *gin.Context) {
	if _, ok := a.localWork(c); !ok {
		return
	}
	out, _ := a.downstream.callSequential(c.Request.Context(), []call{
		{key: "service-b", url: endpoint(a.cfg.ServiceBURL, "/api/cascade", nil)},
	})
	a.respondWithResults(c, out)
}

// chainSteps is the fixed chain of GET /api/demo/failure/chain.
const chainSteps = 3

// failureChain: GET /api/demo/failure/chain?fail_at=N runs step-1 (B),
// step-2 (C), step-3 (B) in order; step N is asked to fail and the chain
// stops there. fail_at=0 runs every step cleanly; the default is 2.
func (a *app) failureChain(c *gin.Context) {
	failAt := 2
	raw, present, err := simulate.Single(c.Request.URL.Query(), "fail_at")
	if err != nil {
		a.reject(c, http.StatusBadRequest, "invalid_parameter", err.Error())
		return
	}
	if present {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 || n > chainSteps {
			a.reject(c, http.StatusBadRequest, "invalid_parameter",
				fmt.Sprintf("invalid parameter: fail_at must be an integer 0-%d", chainSteps))
			return
		}
		failAt = n
	}
	if _, ok := a.localWork(c); !ok {
		return
	}

	bases := [chainSteps]string{a.cfg.ServiceBURL, a.cfg.ServiceCURL, a.cfg.ServiceBURL}
	steps := make([]call, chainSteps)
	for i, base := range bases {
		var query url.Values
		if i+1 == failAt {
			query = url.Values{"fail": {"true"}}
		}
		steps[i] = call{key: fmt.Sprintf("step-%d", i+1), url: endpoint(base, "/api/process", query)}
	}

	out, failedStep := a.downstream.callSequential(c.Request.Context(), steps)
	if failedStep == "" {
		a.respond(c, http.StatusOK, gin.H{"results": out})
		return
	}
	trace.SpanFromContext(c.Request.Context()).SetAttributes(attribute.String("app.failed_step", failedStep))
	a.fail(c, out.failure(), gin.H{"results": out, "failed_step": failedStep})
}

package main

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tracing-demo/service-a/internal/simulate"
)

// process is service-a's own unit of work: GET /api/process. It fails only
// when asked to (fail=true).
func (a *app) process(c *gin.Context) {
	params, ok := a.localWork(c)
	if !ok {
		return
	}
	a.respond(c, http.StatusOK, gin.H{
		"result":    "processed",
		"delay_ms":  params.DelayMs,
		"hop_count": hopCountFrom(c.Request.Context()),
	})
}

// localWork runs the simulated part of any endpoint (delay_ms, fail; fail
// defaults to false everywhere in service-a). When it returns false the
// response has been written already.
func (a *app) localWork(c *gin.Context) (simulate.Params, bool) {
	params, err := simulate.Parse(c.Request.URL.Query())
	if err != nil {
		a.reject(c, http.StatusBadRequest, "invalid_parameter", err.Error())
		return params, false
	}

	switch err := params.Work(c.Request.Context(), false); {
	case err == nil:
		return params, true
	case errors.Is(err, simulate.ErrSimulatedFailure):
		a.fail(c, &apiError{
			Status: http.StatusInternalServerError, Code: "simulated_failure",
			Message: "the simulated work failed (fail=true)", Cause: err,
		}, nil)
	default:
		// The client went away mid-work; nobody reads this answer. 499 is
		// nginx's code for it: a client event, not a server failure.
		a.reject(c, 499, "client_closed_request", "the client closed the request")
	}
	return params, false
}

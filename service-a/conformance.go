package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
)

const (
	// maxConformanceBody bounds the POST /test body.
	maxConformanceBody = 1 << 20
	// maxConformanceCalls bounds the calls one request may ask for, each of
	// which may wait out the full downstream timeout (docs/contract.md).
	maxConformanceCalls = 32
)

// conformanceCall is one entry of the W3C Trace Context test harness's body.
type conformanceCall struct {
	URL       string          `json:"url"`
	Arguments json.RawMessage `json:"arguments"`
}

// conformance: POST /test is the endpoint the W3C Trace Context test suite
// drives (github.com/w3c/trace-context, test/). For each entry, in order, it
// POSTs `arguments` to `url` through the instrumented client, so each call
// gets its own CLIENT span and exactly one traceparent. Failed calls are
// logged; the harness judges the calls it receives, not this answer.
//
// It sends requests to URLs chosen by the caller: it is reachable on the
// service's own port only, never through the gateway.
func (a *app) conformance(c *gin.Context) {
	calls, err := decodeConformanceCalls(http.MaxBytesReader(c.Writer, c.Request.Body, maxConformanceBody))
	if err != nil {
		a.reject(c, http.StatusBadRequest, "invalid_body", err.Error())
		return
	}

	ctx := c.Request.Context()
	for _, call := range calls {
		arguments := call.Arguments
		if len(arguments) == 0 {
			arguments = json.RawMessage("[]")
		}
		if err := a.downstream.postJSON(ctx, call.URL, arguments); err != nil {
			a.logger.WarnContext(ctx, "conformance call failed", "url", call.URL, "error", err)
		}
	}
	c.JSON(http.StatusOK, []any{})
}

var errConformanceBody = errors.New(`body must be a JSON array of {"url": "http(s)://...", "arguments": [...]}`)

func decodeConformanceCalls(body io.Reader) ([]conformanceCall, error) {
	decoder := json.NewDecoder(body)
	var calls []conformanceCall
	if err := decoder.Decode(&calls); err != nil || calls == nil {
		return nil, errConformanceBody
	}
	if _, err := decoder.Token(); !errors.Is(err, io.EOF) {
		return nil, errConformanceBody // trailing data after the array
	}
	if len(calls) > maxConformanceCalls {
		return nil, fmt.Errorf("at most %d calls per request", maxConformanceCalls)
	}
	for _, call := range calls {
		u, err := url.Parse(call.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errConformanceBody
		}
	}
	return calls, nil
}

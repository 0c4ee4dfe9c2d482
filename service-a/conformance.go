package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
)

const (
	// maxConformanceBody bounds the POST /test body (docs/contract.md,
	// "Input rules"): 32 calls with their arguments fit many times over.
	maxConformanceBody = 64 << 10
	// maxConformanceCalls bounds the calls one request may ask for, each of
	// which may wait out the full downstream timeout (docs/contract.md).
	maxConformanceCalls = 32
)

// conformanceCall is one entry of the W3C Trace Context test harness's body.
type conformanceCall struct {
	URL       string
	Arguments json.RawMessage // a JSON array, sent as is
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
	body, err := readBody(c, maxConformanceBody)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		// Closing the connection: otherwise net/http would first read the unread
		// body (to reuse the connection) and answer only when it came or timed out.
		c.Header("Connection", "close")
		a.reject(c, http.StatusRequestEntityTooLarge, "body_too_large",
			fmt.Sprintf("the body must be at most %d bytes", maxConformanceBody))
		return
	case err != nil:
		// Cut short, a malformed chunk, or not all there within the server's
		// read timeout (server.go): the client's fault, answered as such.
		a.reject(c, http.StatusBadRequest, "invalid_body", "the body could not be read completely")
		return
	}
	calls, err := decodeConformanceCalls(body)
	if err != nil {
		a.reject(c, http.StatusBadRequest, "invalid_body", err.Error())
		return
	}

	ctx := c.Request.Context()
	for _, call := range calls {
		if result := a.downstream.postJSON(ctx, call.URL, call.Arguments); !result.ok() {
			a.logger.WarnContext(ctx, "conformance call failed", result.logAttrs(call.URL)...)
		}
	}
	c.JSON(http.StatusOK, []any{})
}

// readBody reads the whole request body, refusing more than limit bytes; a
// Content-Length over the limit is refused before anything is read.
func readBody(c *gin.Context, limit int64) ([]byte, error) {
	if c.Request.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	return io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
}

var errConformanceBody = errors.New(`body must be a JSON array of {"url": "http(s)://...", "arguments": [...]}`)

func decodeConformanceCalls(body []byte) ([]conformanceCall, error) {
	decoder := json.NewDecoder(bytes.NewReader(body))
	// Entries as maps, not straight into conformanceCall: encoding/json
	// matches struct fields without regard to case ("URL", "Arguments"),
	// and the contract's keys are spelled exactly.
	var entries []map[string]json.RawMessage
	if err := decoder.Decode(&entries); err != nil || entries == nil {
		return nil, errConformanceBody
	}
	if _, err := decoder.Token(); !errors.Is(err, io.EOF) {
		return nil, errConformanceBody // trailing data after the array
	}
	if len(entries) > maxConformanceCalls {
		return nil, fmt.Errorf("at most %d calls per request", maxConformanceCalls)
	}
	calls := make([]conformanceCall, 0, len(entries))
	for _, entry := range entries {
		call, err := conformanceCallOf(entry)
		if err != nil {
			return nil, err
		}
		calls = append(calls, call)
	}
	return calls, nil
}

// conformanceCallOf checks one entry by docs/contract.md, "Input rules":
// `arguments` a JSON array, `url` an http(s) URL with a host and no
// credentials.
func conformanceCallOf(entry map[string]json.RawMessage) (conformanceCall, error) {
	var call conformanceCall
	if err := json.Unmarshal(entry["url"], &call.URL); err != nil {
		return call, errConformanceBody
	}
	if call.Arguments = entry["arguments"]; len(call.Arguments) == 0 || call.Arguments[0] != '[' {
		return call, errConformanceBody
	}
	u, err := url.Parse(call.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return call, errConformanceBody
	}
	if hasCredentials(u) {
		return call, errURLCredentials
	}
	return call, nil
}

var errURLCredentials = errors.New("a url must not carry a user name or password")

// hasCredentials: fetch refuses them and requests cannot encode every one, so
// all three services refuse such a URL (docs/contract.md, "Input rules").
func hasCredentials(u *url.URL) bool {
	password, _ := u.User.Password()
	return u.User.Username() != "" || password != ""
}

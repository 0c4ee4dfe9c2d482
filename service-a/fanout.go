package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// call is one downstream request of a fan-out; key names its entry in the
// response's `results` ("service-b", "step-1", ...).
type call struct {
	key string
	url string
}

// endpoint joins a downstream base URL, a path and an optional query.
func endpoint(baseURL, path string, query url.Values) string {
	if len(query) == 0 {
		return baseURL + path
	}
	return baseURL + path + "?" + query.Encode()
}

// results maps each call's key to its outcome; it is encoded as `results`.
type results map[string]callResult

// callParallel makes all calls at once and waits for every one of them: a
// failure does not cancel the others, the response reports each outcome.
func (d *downstreamClient) callParallel(ctx context.Context, calls []call) results {
	outcomes := make([]callResult, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Go(func() { outcomes[i] = d.getJSON(ctx, c.url) })
	}
	wg.Wait()

	out := make(results, len(calls))
	for i, c := range calls {
		out[c.key] = outcomes[i]
	}
	return out
}

// callSequential makes the calls one after the other and stops at the first
// failure, whose key it returns ("" when all succeeded): each step counts on
// the one before it.
func (d *downstreamClient) callSequential(ctx context.Context, calls []call) (results, string) {
	out := make(results, len(calls))
	for _, c := range calls {
		result := d.getJSON(ctx, c.url)
		out[c.key] = result
		if !result.ok() {
			return out, c.key
		}
	}
	return out, ""
}

// failed lists the keys of the failed calls, sorted; never nil, so it
// encodes as [] rather than null.
func (r results) failed() []string {
	keys := []string{}
	for key, result := range r {
		if !result.ok() {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	return keys
}

// failure summarises failed calls as this service's own error: 504 when a
// call ran out of time, 502 otherwise. Nil when every call succeeded.
func (r results) failure() *apiError {
	failed := r.failed()
	if len(failed) == 0 {
		return nil
	}
	status, code := http.StatusBadGateway, "downstream_failed"
	reasons := make([]string, len(failed))
	for i, key := range failed {
		reasons[i] = fmt.Sprintf("%s (%s)", key, r[key].code)
		if r[key].code == "timeout" {
			status, code = http.StatusGatewayTimeout, "downstream_timeout"
		}
	}
	return &apiError{
		Status:  status,
		Code:    code,
		Message: "downstream call failed: " + strings.Join(reasons, ", "),
	}
}

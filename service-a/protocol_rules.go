package main

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// knownMethods are the methods of docs/contract.md, "Input rules": RFC 9110's
// and PATCH, spelled in capitals. CONNECT is not one: it asks a proxy for a
// tunnel, and these services are no proxies.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodDelete: true, http.MethodOptions: true, http.MethodTrace: true, http.MethodPatch: true,
}

const (
	versionNotSupportedMessage  = "only HTTP/1.0 and HTTP/1.1 are served"
	methodNotImplementedMessage = "this method is not implemented by any route"
)

// enforceProtocol refuses, before routing, what no route could serve: an HTTP
// version other than 1.0 and 1.1 (net/http refuses a major version but 1
// itself, see protocol_refusals.go; HTTP/1.2 reaches this far) and a method no
// service implements. Both answers are 5xx, so the span fails like any 5xx.
func (a *app) enforceProtocol(c *gin.Context) {
	var refusal *apiError
	switch r := c.Request; {
	case r.ProtoMajor != 1 || r.ProtoMinor > 1:
		refusal = &apiError{Status: http.StatusHTTPVersionNotSupported, Code: "http_version_not_supported",
			Message: versionNotSupportedMessage}
	case !knownMethods[r.Method]:
		refusal = &apiError{Status: http.StatusNotImplemented, Code: "not_implemented",
			Message: methodNotImplementedMessage}
	default:
		c.Next()
		return
	}
	// gin sets Allow before any handler runs when the path has routes for
	// other methods; it belongs to a 405, not to these answers.
	c.Writer.Header().Del("Allow")
	a.fail(c, refusal, nil)
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// net/http refuses some requests before any handler runs and answers them
// itself (conn.serve), in plain text, logging nothing: a byte it does not
// allow in the request line or a header, a Host that names no host, headers
// over its limit, a malformed Content-Length or an unknown
// Transfer-Encoding, a version whose major number is not 1, an Expect other
// than 100-continue. It has no hook for those answers, so the connections of
// jsonProtocolRefusals' listener rewrite them on their way out into the
// contract's JSON error (docs/contract.md, "Errors are JSON"), with one
// `request completed` line. An answer of the app always carries Date and a
// JSON Content-Type, so it never looks like one of these; bytes that do not
// match exactly are passed on unchanged.

// netHTTPErrorHeaders follows the status line of every plain answer, written
// in one Write (Go 1.26, net/http/server.go): "HTTP/1.1 <code> <text>[: <why>]".
const netHTTPErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// netHTTPExpectationFailed is its answer to an Expect it cannot meet: an empty
// 417 through the response writer, before the handler.
var netHTTPExpectationFailed = regexp.MustCompile(
	`^HTTP/1\.[01] 417 Expectation Failed\r\nConnection: close\r\nDate: [^\r\n]+\r\nContent-Length: 0\r\n\r\n$`)

// protocolRefusals maps net/http's status to the contract's code and message.
var protocolRefusals = map[int]apiError{
	http.StatusBadRequest:                  {Code: "bad_request", Message: "malformed request"},
	http.StatusExpectationFailed:           {Code: "expectation_failed", Message: "only Expect: 100-continue is supported"},
	http.StatusRequestHeaderFieldsTooLarge: {Code: "headers_too_large", Message: "a header line or the header block is too large"},
	http.StatusNotImplemented:              {Code: "not_implemented", Message: "unsupported transfer coding"},
	http.StatusHTTPVersionNotSupported:     {Code: "http_version_not_supported", Message: versionNotSupportedMessage},
}

// netHTTPRefusal reads one Write of net/http: its status and its reason (its
// own fixed words, never the client's bytes), or ok false if it is not one of
// its plain refusals.
func netHTTPRefusal(p []byte) (status int, reason string, ok bool) {
	if netHTTPExpectationFailed.Match(p) {
		return http.StatusExpectationFailed, "unsupported Expect", true
	}
	line, _, found := bytes.Cut(p, []byte(netHTTPErrorHeaders))
	rest, isHTTP11 := bytes.CutPrefix(line, []byte("HTTP/1.1 "))
	if !found || !isHTTP11 || len(rest) < 4 || rest[3] != ' ' {
		return 0, "", false
	}
	status, err := strconv.Atoi(string(rest[:3]))
	if _, known := protocolRefusals[status]; err != nil || !known {
		return 0, "", false
	}
	text := string(rest[4:])
	if why, hasWhy := strings.CutPrefix(text, http.StatusText(status)+": "); hasWhy {
		return status, why, true
	}
	return status, text, text == http.StatusText(status)
}

// jsonProtocolRefusals wraps the listener the server accepts connections from.
func jsonProtocolRefusals(listener net.Listener, service string, logger *slog.Logger) net.Listener {
	return &refusalListener{Listener: listener, service: service, logger: logger}
}

type refusalListener struct {
	net.Listener
	service string
	logger  *slog.Logger
}

func (l *refusalListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &refusalConn{Conn: conn, listener: l}, nil
}

type refusalConn struct {
	net.Conn
	listener *refusalListener
}

func (c *refusalConn) Write(p []byte) (int, error) {
	status, reason, ok := netHTTPRefusal(p)
	if !ok {
		return c.Conn.Write(p)
	}
	if _, err := c.Conn.Write(c.listener.answer(status, reason)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// CloseWrite keeps net/http's half-close before it hangs up on a refused
// request (it looks for this method on the connection).
func (c *refusalConn) CloseWrite() error {
	if closer, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return closer.CloseWrite()
	}
	return nil
}

// answer is the whole JSON answer, in the shape of the app's errors but
// without otel_trace_id: no span was started. It writes the request's log line.
func (l *refusalListener) answer(status int, reason string) []byte {
	refusal := protocolRefusals[status]
	id := mintXTraceID(time.Now())
	body, _ := json.Marshal(map[string]string{
		"service": l.service, "trace_id": id, "error": refusal.Code, "message": refusal.Message,
	})
	// The parser stopped before method and path were known to be sound.
	l.logger.Log(withXTraceID(context.Background(), id), levelForStatus(status), "request completed",
		"method", "", "route", "", "status", status, "error", reason, "duration_ms", 0)

	var answer bytes.Buffer
	fmt.Fprintf(&answer, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	fmt.Fprintf(&answer, "Content-Type: application/json; charset=utf-8\r\n%s: %s\r\n", xTraceIDHeader, id)
	fmt.Fprintf(&answer, "Content-Length: %d\r\nConnection: close\r\n\r\n", len(body))
	answer.Write(body)
	return answer.Bytes()
}

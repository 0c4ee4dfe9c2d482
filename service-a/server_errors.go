package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// net/http refuses some requests before any handler runs and answers them
// itself, in plain text (its conn.serve): one of them is an input rule of
// docs/contract.md, a request line whose HTTP version has a major number
// other than 1 ("HTTP/2.0", "HTTP/0.9"), answered 505. net/http has no hook
// for that answer, so the connections of jsonServerErrors' listener rewrite
// it on its way out into the contract's JSON error, as the app would answer.
//
// net/http writes such an answer in one Write of exactly this start, with
// these headers; an answer of the app always carries a Date header, so it
// never looks the same.
const (
	netHTTPVersionRefusal = "HTTP/1.1 505 HTTP Version Not Supported: "
	netHTTPErrorHeaders   = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
)

// jsonServerErrors wraps the listener the server accepts connections from.
func jsonServerErrors(listener net.Listener, service string, logger *slog.Logger) net.Listener {
	return &serverErrorListener{Listener: listener, service: service, logger: logger}
}

type serverErrorListener struct {
	net.Listener
	service string
	logger  *slog.Logger
}

func (l *serverErrorListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &serverErrorConn{Conn: conn, listener: l}, nil
}

type serverErrorConn struct {
	net.Conn
	listener *serverErrorListener
}

func (c *serverErrorConn) Write(p []byte) (int, error) {
	if !bytes.HasPrefix(p, []byte(netHTTPVersionRefusal)) || !bytes.Contains(p, []byte(netHTTPErrorHeaders)) {
		return c.Conn.Write(p)
	}
	if _, err := c.Conn.Write(c.listener.versionRefusal()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// CloseWrite keeps net/http's half-close before it hangs up on a refused
// request (it looks for this method on the connection).
func (c *serverErrorConn) CloseWrite() error {
	if closer, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return closer.CloseWrite()
	}
	return nil
}

// versionRefusal is the whole answer, in the shape of the app's errors but
// without otel_trace_id: no span was started. It writes the request's log line.
func (l *serverErrorListener) versionRefusal() []byte {
	const status, code = http.StatusHTTPVersionNotSupported, "http_version_not_supported"
	id := mintXTraceID(time.Now())
	body, _ := json.Marshal(map[string]string{
		"service": l.service, "trace_id": id, "error": code, "message": versionNotSupportedMessage,
	})
	l.logger.Log(withXTraceID(context.Background(), id), levelForStatus(status), "request completed",
		"method", "", "route", "", "status", status, "error", code, "duration_ms", 0)

	var answer bytes.Buffer
	fmt.Fprintf(&answer, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	fmt.Fprintf(&answer, "Content-Type: application/json; charset=utf-8\r\n%s: %s\r\n", xTraceIDHeader, id)
	fmt.Fprintf(&answer, "Content-Length: %d\r\nConnection: close\r\n\r\n", len(body))
	answer.Write(body)
	return answer.Bytes()
}

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

// startRefusalServer is the app behind the listener run.go uses.
func startRefusalServer(t *testing.T) (*testService, string) {
	t.Helper()
	svc := newTestService(t, testConfig(nil, nil))
	logger := newLogger(svc.logs, "service-a", slog.LevelDebug)
	server := httptest.NewUnstartedServer(svc.router)
	server.Config = newHTTPServer(svc.router, logger)
	server.Listener = jsonProtocolRefusals(server.Listener, "service-a", logger)
	server.Start()
	t.Cleanup(server.Close)
	return svc, server.Listener.Addr().String()
}

// TestNetHTTPRefusalsAreJSON is docs/contract.md, "Errors are JSON", for the
// requests net/http refuses itself: each gets the contract's JSON error with
// net/http's status, a fresh X-Trace-ID and one log line, and quotes none of
// the client's bytes.
func TestNetHTTPRefusalsAreJSON(t *testing.T) {
	svc, address := startRefusalServer(t)
	request := func(target, headers string) string {
		return "GET " + target + " HTTP/1.1\r\nHost: x\r\n" + headers + "Connection: close\r\n\r\n"
	}
	tests := []struct {
		name, request string
		wantStatus    int
		wantCode      string
	}{
		{"a control byte in the target", request("/api/\x01token", ""), 400, "bad_request"},
		{"an unknown Transfer-Encoding", request("/api/process", "Transfer-Encoding: token\r\n"), 501, "not_implemented"},
		{"an Expect other than 100-continue", request("/api/process", "Expect: token\r\n"), 417, "expectation_failed"},
		{"more header bytes than net/http takes", request("/api/process",
			"X-Big: "+strings.Repeat("b", maxHeaderBytes+8192)+"\r\n"), 431, "headers_too_large"},
		{"HTTP/2.0", "GET /api/process HTTP/2.0\r\nHost: x\r\n\r\n", 505, "http_version_not_supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(svc.linesWithMessage(t, "request completed"))
			resp, body := rawExchange(t, address, tt.request)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %q", resp.StatusCode, tt.wantStatus, body)
			}
			var fields map[string]string
			if err := json.Unmarshal(body, &fields); err != nil {
				t.Fatalf("body is not a JSON error: %q", body)
			}
			id := resp.Header.Get(xTraceIDHeader)
			want := map[string]string{"service": "service-a", "trace_id": id, "error": tt.wantCode,
				"message": protocolRefusals[tt.wantStatus].Message}
			if id == "" || !reflect.DeepEqual(fields, want) || !resp.Close {
				t.Errorf("body %v, close %v; want %v and Connection: close", fields, resp.Close, want)
			}
			lines := svc.linesWithMessage(t, "request completed")[before:]
			if len(lines) != 1 || lines[0]["x_trace_id"] != id || lines[0]["status"] != float64(tt.wantStatus) ||
				lines[0]["route"] != "" {
				t.Errorf("log lines %v, want one with status %d and x_trace_id %s", lines, tt.wantStatus, id)
			}
			if strings.Contains(string(body), "token") || strings.Contains(svc.logs.String(), "token") {
				t.Errorf("the client's bytes are quoted: %q", body)
			}
		})
	}
}

// TestNetHTTPRefusalShapes: only net/http's exact plain answers are rewritten;
// anything else, an answer of the app above all, passes unchanged.
func TestNetHTTPRefusalShapes(t *testing.T) {
	const plain = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
	tests := []struct {
		written    string
		wantStatus int
		wantReason string
	}{
		{"HTTP/1.1 400 Bad Request" + plain + "400 Bad Request", 400, "Bad Request"},
		{"HTTP/1.1 400 Bad Request: invalid header value" + plain + "400 Bad Request: invalid header value", 400,
			"invalid header value"},
		{"HTTP/1.1 431 Request Header Fields Too Large" + plain + "431 Request Header Fields Too Large", 431,
			"Request Header Fields Too Large"},
		{"HTTP/1.1 501 Not Implemented" + plain + "Unsupported transfer encoding", 501, "Not Implemented"},
		{"HTTP/1.1 505 HTTP Version Not Supported: unsupported protocol version" + plain + "505 ...", 505,
			"unsupported protocol version"},
		{"HTTP/1.1 417 Expectation Failed\r\nConnection: close\r\nDate: Mon, 07 Dec 2026 01:00:00 GMT\r\n" +
			"Content-Length: 0\r\n\r\n", 417, "unsupported Expect"},
		// not net/http's plain answers
		{"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\nDate: x\r\n\r\n{}", 0, ""},
		{"HTTP/1.1 400 Bad Requests" + plain + "400", 0, ""},
		{"HTTP/1.1 404 Not Found" + plain + "404 Not Found", 0, ""},
		{"HTTP/1.0 400 Bad Request" + plain + "400 Bad Request", 0, ""},
		{"HTTP/1.1 417 Expectation Failed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 0, ""},
		{"HTTP/1.1 4", 0, ""},
		{"", 0, ""},
	}
	for _, tt := range tests {
		status, reason, ok := netHTTPRefusal([]byte(tt.written))
		if ok != (tt.wantStatus != 0) || (ok && (status != tt.wantStatus || reason != tt.wantReason)) {
			t.Errorf("%q: %d %q %v, want %d %q", tt.written, status, reason, ok, tt.wantStatus, tt.wantReason)
		}
	}
	var passed bytes.Buffer
	conn := &refusalConn{Conn: writeConn{&passed}, listener: nil}
	app := "HTTP/1.1 404 Not Found\r\nContent-Type: application/json; charset=utf-8\r\n\r\n{}"
	if n, err := conn.Write([]byte(app)); err != nil || n != len(app) || passed.String() != app {
		t.Errorf("an answer of the app came out as %q (%d, %v)", passed.String(), n, err)
	}
}

// writeConn is a net.Conn that only writes, into a buffer.
type writeConn struct{ *bytes.Buffer }

func (writeConn) Read([]byte) (int, error)         { return 0, io.EOF }
func (writeConn) Close() error                     { return nil }
func (writeConn) LocalAddr() net.Addr              { return nil }
func (writeConn) RemoteAddr() net.Addr             { return nil }
func (writeConn) SetDeadline(time.Time) error      { return nil }
func (writeConn) SetReadDeadline(time.Time) error  { return nil }
func (writeConn) SetWriteDeadline(time.Time) error { return nil }

// rawExchange writes one request as given and reads the answer.
func rawExchange(t *testing.T, address, request string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", address)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

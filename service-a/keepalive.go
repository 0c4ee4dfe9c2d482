package main

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Keep-alive policy (docs/contract.md, "Keep-alive connections").
const (
	// serverIdleTimeout is how long this server keeps an idle connection:
	// longer than any caller's pool keeps one (nginx 60 s, clientIdleTimeout),
	// so the caller lets go first and never sends on a connection being closed.
	serverIdleTimeout = 75 * time.Second

	// clientIdleTimeout is how long this service's own pool keeps an idle
	// connection to B and C: shorter than their serverIdleTimeout.
	clientIdleTimeout = 60 * time.Second
)

type connRequestsKey struct{}

// closeConnectionsAfter makes srv answer the limit-th request on each
// connection with "Connection: close", after which net/http closes it: the
// caller reconnects and resolves the name again, reaching other replicas.
// net/http has no such setting, so requests are counted per connection in
// the context ConnContext gives it. 0 means no limit.
func closeConnectionsAfter(srv *http.Server, limit int) {
	if limit <= 0 {
		return
	}
	srv.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, connRequestsKey{}, new(atomic.Int64))
	}
	next := srv.Handler
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served, ok := r.Context().Value(connRequestsKey{}).(*atomic.Int64)
		if ok && served.Add(1) >= int64(limit) {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

const (
	// drainTimeout is how long in-flight requests may finish after SIGTERM.
	drainTimeout = 10 * time.Second

	// bodyReadTimeout bounds reading one whole request, headers and body
	// (docs/contract.md, "Input rules": a body that never reaches its
	// Content-Length is read for at most 10 s). Without it such a request
	// holds its connection forever: the handler waits in Read, and even a
	// handler that ignores the body waits, because net/http reads what is
	// left of it before answering so the connection can be reused.
	// net/http lifts this deadline once the body is read, so it never cuts a
	// slow handler short.
	bodyReadTimeout = 10 * time.Second

	// headerReadTimeout: a client that has not sent its headers in 5 s is
	// not going to; it must not hold a connection until bodyReadTimeout.
	headerReadTimeout = 5 * time.Second

	// maxHeaderBytes leaves room for the 10 KB hostile header values the
	// e2e suite sends while refusing anything near Go's 1 MB default.
	maxHeaderBytes = 64 << 10
)

func newHTTPServer(handler http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: headerReadTimeout,
		ReadTimeout:       bodyReadTimeout,
		// Longest legitimate request: delay_ms 10 s plus a three-step chain
		// of downstream calls, each bounded by DOWNSTREAM_TIMEOUT_MS.
		WriteTimeout:   60 * time.Second,
		IdleTimeout:    serverIdleTimeout,
		MaxHeaderBytes: maxHeaderBytes,
		// "OPTIONS *" would get net/http's own bare 200; the router answers
		// it as JSON like any other request (OPTIONS is not served here).
		DisableGeneralOptionsHandler: true,
		// net/http reports connection-level problems here; keep them JSON.
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// serve answers on listener until ctx is cancelled (SIGTERM), then stops
// accepting and lets in-flight requests finish for up to drainTimeout.
// A drain that runs out of time closes the remaining connections; that is
// logged, not returned: the process still shuts down cleanly.
func serve(ctx context.Context, srv *http.Server, listener net.Listener, drainTimeout time.Duration, logger *slog.Logger) error {
	served := make(chan error, 1)
	go func() { served <- srv.Serve(listener) }()

	select {
	case err := <-served:
		return err // Serve failed before any shutdown was asked for.
	case <-ctx.Done():
	}

	logger.Info("shutting down, draining in-flight requests", "drain_timeout_ms", drainTimeout.Milliseconds())
	drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
	defer cancel()
	if err := srv.Shutdown(drainCtx); err != nil {
		logger.Warn("drain incomplete, closing remaining connections", "error", err)
		_ = srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

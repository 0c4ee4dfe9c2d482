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

	// maxHeaderBytes leaves room for the 10 KB hostile header values the
	// e2e suite sends while refusing anything near Go's 1 MB default.
	maxHeaderBytes = 64 << 10
)

func newHTTPServer(handler http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		// Longest legitimate request: delay_ms 10 s plus a three-step chain
		// of downstream calls, each bounded by DOWNSTREAM_TIMEOUT_MS.
		WriteTimeout: 60 * time.Second,
		// Longer than nginx's upstream keepalive_timeout (60 s), so the
		// gateway closes idle connections first and never reuses one this
		// server is closing.
		IdleTimeout:    75 * time.Second,
		MaxHeaderBytes: maxHeaderBytes,
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

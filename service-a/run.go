package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel"
)

// run is the whole life of the process: configure, serve until SIGTERM or
// SIGINT, drain, flush the spans. It returns an error only for a failure to
// start or to serve; a clean shutdown returns nil (exit 0).
func run() error {
	cfg, cfgErr := loadConfig(os.LookupEnv)
	// Logging comes first so that even a configuration error is a JSON line.
	logger := newLogger(os.Stdout, cfg.ServiceName, cfg.LogLevel)
	slog.SetDefault(logger)
	if cfgErr != nil {
		return fmt.Errorf("configuration: %w", cfgErr)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	tp, err := setupTelemetry(ctx, cfg.ServiceName, logger)
	if err != nil {
		return fmt.Errorf("telemetry: %w", err)
	}
	// Deferred, so it runs after serve has drained the last requests.
	defer flushTelemetry(tp, logger)

	gin.SetMode(gin.ReleaseMode)
	router := newRouter(cfg, logger, tp, otel.GetTextMapPropagator())

	listener, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return err
	}
	logger.Info("listening", "address", listener.Addr().String())
	listener = jsonProtocolRefusals(listener, cfg.ServiceName, logger)
	srv := newHTTPServer(router, logger)
	closeConnectionsAfter(srv, cfg.MaxRequestsPerConnection)
	return serve(ctx, srv, listener, drainTimeout, logger)
}

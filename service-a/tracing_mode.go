package main

import (
	"context"
	"log/slog"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/trace/noop"
)

// tracingMode is what OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER ask for.
// The Go SDK reads neither (it reads only the sampler variables), so the
// application does, as the specification describes them.
type tracingMode int

const (
	// tracingExported: spans are recorded and sent over OTLP (the default).
	tracingExported tracingMode = iota
	// tracingNotExported: OTEL_TRACES_EXPORTER=none. Spans are recorded (ids,
	// sampling, propagation as usual) but go nowhere.
	tracingNotExported
	// tracingDisabled: OTEL_SDK_DISABLED=true. No SDK at all: a no-op
	// provider, which still carries an incoming trace context through.
	tracingDisabled
)

func tracingModeFromEnv(lookup func(string) (string, bool), logger *slog.Logger) tracingMode {
	if value, ok := lookup("OTEL_SDK_DISABLED"); ok && strings.TrimSpace(value) != "" {
		disabled, err := strconv.ParseBool(strings.TrimSpace(value))
		switch {
		case err != nil:
			logger.Warn("ignoring invalid OTEL_SDK_DISABLED, the SDK stays enabled", "value", value)
		case disabled:
			return tracingDisabled
		}
	}
	value, _ := lookup("OTEL_TRACES_EXPORTER")
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "", "otlp":
		return tracingExported
	case "none":
		return tracingNotExported
	default:
		logger.Warn("only otlp and none are supported, exporting with otlp", "OTEL_TRACES_EXPORTER", value)
		return tracingExported
	}
}

// disabledTracerProvider is the no-op provider with the flush run expects.
type disabledTracerProvider struct{ noop.TracerProvider }

func (disabledTracerProvider) ForceFlush(context.Context) error { return nil }
func (disabledTracerProvider) Shutdown(context.Context) error   { return nil }

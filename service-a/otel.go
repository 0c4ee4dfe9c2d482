package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/go-logr/logr"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// telemetryFlushTimeout bounds the final flush at shutdown: with the
// Collector gone, exporting would otherwise retry for a long time while the
// process is expected to exit.
const telemetryFlushTimeout = 4 * time.Second

// tracerProvider is what run needs of the provider: spans, and a flush at exit.
type tracerProvider interface {
	trace.TracerProvider
	ForceFlush(ctx context.Context) error
	Shutdown(ctx context.Context) error
}

// setupTelemetry installs the global tracer provider and propagator.
//
// Everything about the exporter comes from the standard environment
// (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_BSP_*, OTEL_TRACES_SAMPLER, ...), read by
// the SDK itself, plus OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER, which the Go
// SDK leaves to the application (tracingMode). Export is asynchronous (batch
// span processor) and retried (export.go): an unreachable Collector costs a
// few log lines, never a failed request.
func setupTelemetry(ctx context.Context, serviceName string, logger *slog.Logger) (tracerProvider, error) {
	// The SDK reports export failures through these two hooks; route both to
	// the JSON log so nothing else ever reaches stdout/stderr.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		logger.Error("opentelemetry error", "error", err)
	}))
	otel.SetLogger(logr.FromSlogHandler(logger.Handler()))

	// Propagation works whatever the mode: a service that records nothing
	// still passes its caller's trace context on.
	otel.SetTextMapPropagator(newPropagator())
	mode := tracingModeFromEnv(os.LookupEnv, logger)
	if mode == tracingDisabled {
		tp := disabledTracerProvider{}
		otel.SetTracerProvider(tp)
		return tp, nil
	}

	if protocol := os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL"); protocol != "" && protocol != "http/protobuf" {
		logger.Warn("only http/protobuf is supported, ignoring OTEL_EXPORTER_OTLP_PROTOCOL", "value", protocol)
	}

	res, err := newResource(ctx, serviceName)
	switch {
	case errors.Is(err, resource.ErrPartialResource):
		// Say, one malformed OTEL_RESOURCE_ATTRIBUTES entry: the resource
		// still names the service, and fewer attributes beat no traces.
		logger.Warn("resource detection incomplete", "error", err)
	case err != nil:
		return nil, fmt.Errorf("resource: %w", err)
	}
	options := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if mode == tracingExported { // otherwise spans are recorded, never exported
		// One retry policy, retryingExporter's: the exporter's own would wait
		// out 5-30 s backoffs for some errors and none for others.
		exporter, err := otlptracehttp.New(ctx, otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}))
		if err != nil {
			return nil, fmt.Errorf("OTLP exporter: %w", err)
		}
		options = append(options, sdktrace.WithBatcher(newSpanExporter(exporter, logger)))
	}
	tp := sdktrace.NewTracerProvider(options...)
	otel.SetTracerProvider(tp)
	return tp, nil
}

// newSpanExporter is the chain every batch takes to the OTLP exporter: its
// strings made valid UTF-8 once (validutf8.go), then retried while a retry
// can help (export.go).
func newSpanExporter(otlp sdktrace.SpanExporter, logger *slog.Logger) sdktrace.SpanExporter {
	return validUTF8Exporter{next: newRetryingExporter(otlp, newExportHealth(logger))}
}

// newResource describes this process. WithFromEnv comes last so that
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the values set here.
func newResource(ctx context.Context, serviceName string) (*resource.Resource, error) {
	return resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithAttributes(semconv.ServiceName(serviceName)),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithProcessRuntimeName(),
		resource.WithProcessRuntimeVersion(),
		resource.WithFromEnv(),
	)
}

// flushTelemetry exports the spans still queued and stops the provider.
// Failures are logged, not returned: a missing Collector must not turn a
// clean shutdown into a failed one.
func flushTelemetry(tp tracerProvider, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), telemetryFlushTimeout)
	defer cancel()
	if err := tp.ForceFlush(ctx); err != nil {
		logger.Warn("flushing spans failed", "error", err)
	}
	if err := tp.Shutdown(ctx); err != nil {
		logger.Warn("shutting down the tracer provider failed", "error", err)
	}
}

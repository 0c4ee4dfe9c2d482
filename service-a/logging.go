package main

import (
	"context"
	"io"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// timestampLayout is RFC 3339 with milliseconds; times are converted to UTC
// first, so the zone is always written as "Z".
const timestampLayout = "2006-01-02T15:04:05.000Z07:00"

// newLogger writes the one log shape of the project
// (observability/log-schema.json): timestamp, level, service, message,
// trace_id, span_id, x_trace_id, plus the call's own fields.
//
// Request-scoped calls must use the *Context variants (InfoContext, ...)
// with the request's context, which is where the ids come from.
func newLogger(w io.Writer, service string, level slog.Leveler) *slog.Logger {
	base := slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level:       level,
		ReplaceAttr: schemaFieldNames,
	})
	return slog.New(traceContextHandler{base.WithAttrs([]slog.Attr{slog.String("service", service)})})
}

// schemaFieldNames renames slog's built-in fields to the schema's names.
func schemaFieldNames(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.TimeKey:
		return slog.String("timestamp", a.Value.Time().UTC().Format(timestampLayout))
	case slog.MessageKey:
		return slog.Attr{Key: "message", Value: a.Value}
	case slog.LevelKey:
		if level, ok := a.Value.Any().(slog.Level); ok {
			return slog.String(slog.LevelKey, levelName(level))
		}
	}
	return a
}

// levelName maps every slog level, including in-between ones such as
// INFO+2, onto the schema's four names.
func levelName(level slog.Level) string {
	switch {
	case level < slog.LevelInfo:
		return "DEBUG"
	case level < slog.LevelWarn:
		return "INFO"
	case level < slog.LevelError:
		return "WARN"
	default:
		return "ERROR"
	}
}

// traceContextHandler adds the ids of the current request to every record:
// trace_id and span_id of the active span (the OpenTelemetry side) and the
// X-Trace-ID (the business side). Outside a request all three are "", which
// the schema allows, so every line has the same fields.
//
// The ids are added to the record, so they would land inside a group opened
// with WithGroup; this service logs flat records only.
type traceContextHandler struct {
	slog.Handler
}

func (h traceContextHandler) Handle(ctx context.Context, record slog.Record) error {
	var traceID, spanID string
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		traceID, spanID = sc.TraceID().String(), sc.SpanID().String()
	}
	record.AddAttrs(
		slog.String("trace_id", traceID),
		slog.String("span_id", spanID),
		slog.String("x_trace_id", xTraceIDFrom(ctx)),
	)
	return h.Handler.Handle(ctx, record)
}

func (h traceContextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return traceContextHandler{h.Handler.WithAttrs(attrs)}
}

func (h traceContextHandler) WithGroup(name string) slog.Handler {
	return traceContextHandler{h.Handler.WithGroup(name)}
}

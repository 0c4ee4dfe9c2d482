package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Why this file exists: the Go SDK's batch processor forgets a batch as soon
// as the exporter fails, and otlptracehttp does not retry "connection
// refused", so a Collector outage dropped every batch. retryingExporter keeps
// the batch and retries with backoff until OTEL_BSP_EXPORT_TIMEOUT; new spans
// wait in the processor's queue (OTEL_BSP_MAX_QUEUE_SIZE, the memory bound).
// Only what a retry can cure is retried (retryable): a batch refused with 400
// would otherwise hold up every span behind it until the deadline.

// Retry backoff between export attempts: short enough that spans flow again
// within seconds of the Collector's return, long enough not to busy-loop.
const (
	exportRetryInitialBackoff = 500 * time.Millisecond
	exportRetryMaxBackoff     = 5 * time.Second
)

type retryingExporter struct {
	next           sdktrace.SpanExporter
	health         *exportHealth
	initialBackoff time.Duration
	maxBackoff     time.Duration
}

func newRetryingExporter(next sdktrace.SpanExporter, health *exportHealth) *retryingExporter {
	return &retryingExporter{next: next, health: health, initialBackoff: exportRetryInitialBackoff, maxBackoff: exportRetryMaxBackoff}
}

// ExportSpans returns nil once the batch is delivered or dropped as
// undeliverable (logged here: an error would be logged a second time through
// otel.Handle), or an error when ctx (the processor's export deadline, or
// shutdown) ends before that.
func (e *retryingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	backoff := e.initialBackoff
	for {
		err := e.next.ExportSpans(ctx, spans)
		if err == nil {
			e.health.succeeded()
			return nil
		}
		if ctx.Err() == nil && !retryable(err) {
			e.health.undeliverable(err, len(spans))
			return nil
		}
		e.health.failed(err)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < backoff {
			e.health.dropped(len(spans))
			return fmt.Errorf("gave up exporting %d spans at the export deadline: %w", len(spans), err)
		}
		timer := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			timer.Stop()
			e.health.dropped(len(spans))
			return fmt.Errorf("gave up exporting %d spans: %w (last error: %w)", len(spans), context.Cause(ctx), err)
		case <-timer.C:
		}
		backoff = min(2*backoff, e.maxBackoff)
	}
}

// otlpRetryableMarker starts the text of every failure otlptracehttp would
// retry itself (answers 429, 502, 503, 504; temporary network errors). It
// has no exported type or status code for them, so the text is the contract;
// TestExportRetriesOnlyWhatTheSpecificationRetries holds the exporter to it.
const otlpRetryableMarker = "retry-able request failure"

// retryable reports whether sending the same batch again can succeed. The
// OTLP specification ("Failures") retries a request that got no answer
// (connection refused or reset, timeout: a *url.Error here) and the answers
// 429, 502, 503 and 504, and no other. Anything else fails the same way
// every time: a batch that cannot be marshalled, any other answer (400, 401,
// 413, 500, ...), a partial success (which must not be retried either).
func retryable(err error) bool {
	var noAnswer *url.Error
	return errors.As(err, &noAnswer) || strings.Contains(err.Error(), otlpRetryableMarker)
}

func (e *retryingExporter) Shutdown(ctx context.Context) error {
	return e.next.Shutdown(ctx)
}

// exportHealthSummaryEvery is how often a continuing failure is summed up.
const exportHealthSummaryEvery = 30 * time.Second

// The three lines every service writes about span export (docs/contract.md):
// one when export starts failing, one summary per exportHealthSummaryEvery
// while it keeps failing, one when it recovers. Each carries the same fields.
const (
	msgExportFailing      = "span export failing"
	msgExportStillFailing = "span export still failing"
	msgExportRecovered    = "span export recovered"
)

// msgBatchDropped is the one line per batch that no retry could deliver,
// with the fields error, spans_dropped (the batch) and spans_dropped_total
// (every such span since the process started).
const msgBatchDropped = "span batch dropped"

// exportHealth turns a stream of export outcomes into those three lines,
// instead of one line per failed attempt.
type exportHealth struct {
	logger       *slog.Logger
	now          func() time.Time
	summaryEvery time.Duration

	mu             sync.Mutex
	failingSince   time.Time // zero while healthy
	lastReport     time.Time
	failedAttempts int
	spansDropped   int
	lastError      string

	undeliverableSpans int // since the process started
}

func newExportHealth(logger *slog.Logger) *exportHealth {
	return &exportHealth{logger: logger, now: time.Now, summaryEvery: exportHealthSummaryEvery}
}

func (h *exportHealth) failed(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	h.failedAttempts++
	h.lastError = err.Error()
	switch {
	case h.failingSince.IsZero():
		h.failingSince, h.lastReport = now, now
		h.log(slog.LevelWarn, msgExportFailing, now)
	case now.Sub(h.lastReport) >= h.summaryEvery:
		h.lastReport = now
		h.log(slog.LevelWarn, msgExportStillFailing, now)
	}
}

func (h *exportHealth) dropped(spans int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.spansDropped += spans
}

// undeliverable reports a batch dropped without retrying. The outage lines
// are left alone: the next batch may well go through.
func (h *exportHealth) undeliverable(err error, spans int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.undeliverableSpans += spans
	h.logger.Error(msgBatchDropped,
		"error", err.Error(),
		"spans_dropped", spans,
		"spans_dropped_total", h.undeliverableSpans,
	)
}

func (h *exportHealth) succeeded() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failingSince.IsZero() {
		return
	}
	h.log(slog.LevelInfo, msgExportRecovered, h.now())
	h.failingSince, h.failedAttempts, h.spansDropped, h.lastError = time.Time{}, 0, 0, ""
}

func (h *exportHealth) log(level slog.Level, message string, now time.Time) {
	h.logger.Log(context.Background(), level, message,
		"error", h.lastError,
		"failed_attempts", h.failedAttempts,
		"spans_dropped", h.spansDropped,
		"failing_for_ms", now.Sub(h.failingSince).Milliseconds(),
	)
}

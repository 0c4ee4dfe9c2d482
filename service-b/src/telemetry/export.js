'use strict';

// Span export that outlasts a Collector outage, and says so in three lines.
//
// Why: the batch processor hands each batch to the exporter once, and the
// OTLP exporter gives up on a refused connection within seconds, so an outage
// lost its spans (docs/tuning-history.md, service-b).
//
// RetryingSpanExporter keeps the batch and tries again with backoff until
// just before the processor's own OTEL_BSP_EXPORT_TIMEOUT would abandon it
// (the processor exports one batch at a time, so it waits meanwhile and new
// spans collect in its queue, the memory bound). ExportHealth writes the
// same three lines as service-a and service-c (docs/contract.md).
//
// Only a failure that a retry can cure is retried (isUndeliverable). A batch
// that fails the same way every time, say one the Collector answers 400, is
// dropped at once in one line: retried, it held up every span queued behind
// it until the deadline.
//
// Strings need no repair here: the exporter encodes them with TextEncoder,
// which writes a lone surrogate (the only ill-formed text a JS string can
// hold) as U+FFFD, and raw header bytes arrive as latin1 characters.

const { context, ROOT_CONTEXT } = require('@opentelemetry/api');
const { ExportResultCode, getNumberFromEnv } = require('@opentelemetry/core');
const { OTLPExporterError } = require('@opentelemetry/otlp-exporter-base');
const { runOutsideRequestContext } = require('../request-context');

const MSG_FAILING = 'span export failing';
const MSG_STILL_FAILING = 'span export still failing';
const MSG_RECOVERED = 'span export recovered';
// One line per batch no retry can deliver.
const MSG_BATCH_DROPPED = 'span batch dropped';

const SUMMARY_EVERY_MS = 30_000;
// Backoff between attempts; the exporter also retries within each attempt.
const INITIAL_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 5_000;
// The specification's defaults, as the SDK applies them.
const DEFAULT_EXPORT_TIMEOUT_MS = 30_000;
const DEFAULT_OTLP_TIMEOUT_MS = 10_000;

// The answers the OTLP specification ("Failures") retries. A request that
// got no answer at all (ECONNREFUSED, a timeout) is retried as well.
const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);

/**
 * True when sending the same batch again would fail the same way: the
 * receiver answered with a status the specification says not to retry (400,
 * 413, 500, ...). The exporter reports such an answer as an
 * OTLPExporterError whose code is the HTTP status; failures without an
 * answer, and 429/502/503/504 once its own retries are spent, carry none.
 */
function isUndeliverable(error) {
  return error instanceof OTLPExporterError && Number.isInteger(error.code) && !RETRYABLE_STATUSES.has(error.code);
}

function describe(error) {
  if (!error) {
    return '';
  }
  const cause = error.cause?.code ?? error.code;
  return cause && !String(error.message).includes(cause) ? `${error.message} (${cause})` : String(error.message);
}

class ExportHealth {
  constructor(logger, { now = Date.now, summaryEveryMs = SUMMARY_EVERY_MS } = {}) {
    this.logger = logger;
    this.now = now;
    this.summaryEveryMs = summaryEveryMs;
    this.undeliverableSpans = 0; // since the process started
    this.reset();
  }

  reset() {
    this.failingSince = undefined;
    this.lastReport = 0;
    this.failedAttempts = 0;
    this.spansDropped = 0;
    this.lastError = '';
  }

  failed(error) {
    const now = this.now();
    this.failedAttempts += 1;
    this.lastError = describe(error) || this.lastError;
    if (this.failingSince === undefined) {
      this.failingSince = now;
      this.lastReport = now;
      this.emit('warn', MSG_FAILING, now);
    } else if (now - this.lastReport >= this.summaryEveryMs) {
      this.lastReport = now;
      this.emit('warn', MSG_STILL_FAILING, now);
    }
  }

  dropped(spans) {
    this.spansDropped += spans;
  }

  /** A batch dropped without retrying; the outage lines are left alone (the next batch may go through). */
  undeliverable(error, spans) {
    this.undeliverableSpans += spans;
    this.write('error', MSG_BATCH_DROPPED, {
      error: describe(error),
      spans_dropped: spans,
      spans_dropped_total: this.undeliverableSpans,
    });
  }

  succeeded() {
    if (this.failingSince === undefined) {
      return;
    }
    this.emit('info', MSG_RECOVERED, this.now());
    this.reset();
  }

  emit(level, message, now) {
    this.write(level, message, {
      error: this.lastError,
      failed_attempts: this.failedAttempts,
      spans_dropped: this.spansDropped,
      failing_for_ms: now - this.failingSince,
    });
  }

  write(level, message, fields) {
    // Exports run from timers started inside some request: these lines
    // belong to no request and must not borrow its ids.
    context.with(ROOT_CONTEXT, () => runOutsideRequestContext(() => this.logger[level](fields, message)));
  }
}

class RetryingSpanExporter {
  constructor(
    exporter,
    health,
    {
      exportTimeoutMs = getNumberFromEnv('OTEL_BSP_EXPORT_TIMEOUT') ?? DEFAULT_EXPORT_TIMEOUT_MS,
      attemptTimeoutMs = getNumberFromEnv('OTEL_EXPORTER_OTLP_TRACES_TIMEOUT') ??
        getNumberFromEnv('OTEL_EXPORTER_OTLP_TIMEOUT') ??
        DEFAULT_OTLP_TIMEOUT_MS,
      initialBackoffMs = INITIAL_BACKOFF_MS,
      maxBackoffMs = MAX_BACKOFF_MS,
    } = {},
  ) {
    this.exporter = exporter;
    this.health = health;
    this.exportTimeoutMs = exportTimeoutMs;
    this.attemptTimeoutMs = attemptTimeoutMs;
    this.initialBackoffMs = initialBackoffMs;
    this.maxBackoffMs = maxBackoffMs;
    this.waiting = new Set(); // pending backoff timers, ended by shutdown()
    this.isShutdown = false;
  }

  export(spans, resultCallback) {
    // An attempt may take attemptTimeoutMs: start one only if it can answer
    // before the processor gives up on its own (and moves on regardless).
    const lastStart = Date.now() + this.exportTimeoutMs - this.attemptTimeoutMs;
    let backoff = this.initialBackoffMs;
    const attempt = () => {
      try {
        this.exporter.export(spans, onResult);
      } catch (error) {
        // It could not even serialize the batch, and never will.
        this.drop(spans, error, resultCallback);
      }
    };
    const onResult = (result) => {
      if (result.code === ExportResultCode.SUCCESS) {
        this.health.succeeded();
        resultCallback(result);
        return;
      }
      if (isUndeliverable(result.error)) {
        this.drop(spans, result.error, resultCallback);
        return;
      }
      this.health.failed(result.error);
      if (this.isShutdown || Date.now() + backoff > lastStart) {
        this.health.dropped(spans.length);
        resultCallback(result);
        return;
      }
      const timer = setTimeout(() => {
        this.waiting.delete(entry);
        attempt();
      }, backoff);
      timer.unref(); // never what keeps a stopping process alive
      const entry = { timer, giveUp: () => this.giveUp(spans, result, resultCallback) };
      this.waiting.add(entry);
      backoff = Math.min(backoff * 2, this.maxBackoffMs);
    };
    attempt();
  }

  // The batch is settled: reported here, so the processor is told SUCCESS
  // (a failure would be logged a second time by its error handler).
  drop(spans, error, resultCallback) {
    this.health.undeliverable(error, spans.length);
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  giveUp(spans, result, resultCallback) {
    this.health.dropped(spans.length);
    resultCallback(result);
  }

  forceFlush() {
    return this.exporter.forceFlush?.() ?? Promise.resolve();
  }

  shutdown() {
    this.isShutdown = true;
    for (const entry of this.waiting) {
      clearTimeout(entry.timer);
      entry.giveUp();
    }
    this.waiting.clear();
    return this.exporter.shutdown();
  }
}

module.exports = {
  ExportHealth,
  RetryingSpanExporter,
  MSG_FAILING,
  MSG_STILL_FAILING,
  MSG_RECOVERED,
  MSG_BATCH_DROPPED,
};

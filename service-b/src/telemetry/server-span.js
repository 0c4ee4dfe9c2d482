'use strict';

// Access to the SERVER span of the current request and the one way this
// service marks it failed.
//
// Inside Express handlers the active span may be an INTERNAL span of the
// Express instrumentation, so request-level facts (app.x_trace_id, failures)
// are put on the server span that @opentelemetry/instrumentation-http stored
// in the context as RPC metadata.

const { context, trace, SpanStatusCode, INVALID_SPAN_CONTEXT } = require('@opentelemetry/api');
const { getRPCMetadata } = require('@opentelemetry/core');
const { ATTR_ERROR_TYPE } = require('@opentelemetry/semantic-conventions');

const NO_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

function serverSpan() {
  const active = context.active();
  return getRPCMetadata(active)?.span ?? trace.getSpan(active) ?? NO_SPAN;
}

// The failure recorded for each response, so it can be restored once the
// HTTP instrumentation has finished the span (see restoreServerFailure).
const failures = new WeakMap();

/**
 * Marks the server span of the current request as failed: exception event,
 * ERROR status and error.type. Called for every 5xx answer.
 */
function recordServerFailure(response, error, errorType) {
  const span = serverSpan();
  const status = { code: SpanStatusCode.ERROR, message: error.message };
  span.recordException(error);
  span.setStatus(status);
  span.setAttribute(ATTR_ERROR_TYPE, errorType);
  failures.set(response, { status, errorType });
}

/**
 * `applyCustomAttributesOnSpan` hook of the HTTP instrumentation. When the
 * response ends, the instrumentation sets the status from the status code and
 * error.type to the bare code ("503"), dropping the reason; this puts the
 * application's reason (status message, error.type such as
 * MemoryLimitExceeded) back.
 */
function restoreServerFailure(span, _request, response) {
  const failure = failures.get(response);
  if (failure) {
    span.setStatus(failure.status);
    span.setAttribute(ATTR_ERROR_TYPE, failure.errorType);
  }
}

module.exports = { serverSpan, recordServerFailure, restoreServerFailure };

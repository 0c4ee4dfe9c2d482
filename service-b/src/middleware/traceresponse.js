'use strict';

// `traceresponse` (W3C Trace Context Level 2) on every response:
// 00-<trace id>-<server span id>-<flags>. The gateway logs the trace id from
// it, and a client can look the trace up without parsing the body.
// Set before any handler runs so error and 404 answers carry it too.

const { context, isSpanContextValid } = require('@opentelemetry/api');
const { serverSpan } = require('../telemetry/server-span');
const { outgoingTraceFlags } = require('../telemetry/strict-propagator');

// The flags are those an outgoing call would carry (with the Level 2 random
// flag when the trace arrived with it).
function traceresponseValue(spanContext, traceFlags = spanContext.traceFlags) {
  const flags = traceFlags.toString(16).padStart(2, '0');
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}

function traceresponse() {
  return function setTraceresponse(_req, res, next) {
    const spanContext = serverSpan().spanContext();
    // No server span (a health check, never traced): nothing to point at.
    if (isSpanContextValid(spanContext)) {
      res.set('traceresponse', traceresponseValue(spanContext, outgoingTraceFlags(context.active(), spanContext)));
    }
    next();
  };
}

module.exports = { traceresponse, traceresponseValue };

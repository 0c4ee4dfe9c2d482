'use strict';

// `traceresponse` (W3C Trace Context Level 2) on every response:
// 00-<trace id>-<server span id>-<flags>. The gateway logs the trace id from
// it, and a client can look the trace up without parsing the body.
// Set before any handler runs so error and 404 answers carry it too.

const { serverSpan } = require('../telemetry/server-span');

function traceresponseValue(spanContext) {
  const flags = spanContext.traceFlags.toString(16).padStart(2, '0');
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}

function traceresponse() {
  return function setTraceresponse(_req, res, next) {
    res.set('traceresponse', traceresponseValue(serverSpan().spanContext()));
    next();
  };
}

module.exports = { traceresponse, traceresponseValue };

'use strict';

// Every JSON body of the service carries the same three fields
// (docs/contract.md, "Endpoints"): service, trace_id (the X-Trace-ID) and
// otel_trace_id (the trace of the server span).

const { serverSpan } = require('./telemetry/server-span');

function identity(res) {
  return {
    service: res.app.locals.serviceName,
    trace_id: res.locals.xTraceId,
    otel_trace_id: serverSpan().spanContext().traceId,
  };
}

function sendJson(res, status, payload) {
  res.status(status).json({ ...identity(res), ...payload });
}

function sendError(res, status, code, message, details = {}) {
  sendJson(res, status, { error: code, message, ...details });
}

module.exports = { sendJson, sendError };

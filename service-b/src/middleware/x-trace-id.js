'use strict';

// X-Trace-ID: the human-friendly request id minted by the gateway. A value
// that does not match the contract's pattern (or none) is replaced by a new
// one in the gateway's format, so hostile values never reach logs, spans or
// outbound calls. The id goes on the server span (app.x_trace_id), into every
// log line of the request (x_trace_id), into the response header and body.

const { randomBytes } = require('node:crypto');
const { runInRequestContext } = require('../request-context');
const { serverSpan } = require('../telemetry/server-span');

const X_TRACE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

function isValidXTraceId(value) {
  return typeof value === 'string' && X_TRACE_ID_PATTERN.test(value);
}

// trace-<UTC ISO-8601 basic time>-<8 hex>, e.g. trace-20261125T004012Z-1a2b3c4d
function mintXTraceId(now = new Date()) {
  const basicTime = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `trace-${basicTime}-${randomBytes(4).toString('hex')}`;
}

function xTraceId() {
  return function assignXTraceId(req, res, next) {
    const incoming = req.get('x-trace-id');
    const id = isValidXTraceId(incoming) ? incoming : mintXTraceId();
    res.locals.xTraceId = id;
    res.set('X-Trace-ID', id);
    serverSpan().setAttribute('app.x_trace_id', id);
    runInRequestContext({ xTraceId: id }, next);
  };
}

module.exports = { xTraceId, isValidXTraceId, mintXTraceId };

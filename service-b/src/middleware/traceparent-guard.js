'use strict';

// Reports what the strict propagator (telemetry/strict-propagator.js) did
// silently: when a request carried conflicting traceparent values, its server
// span is a new root. Re-reading the headers with the propagator's own helper
// keeps the two in agreement.

const { inspectTraceparent } = require('../telemetry/strict-propagator');
const { serverSpan } = require('../telemetry/server-span');

// Headers are attacker-controlled: bound what one request can add to a span.
const MAX_REPORTED_VALUES = 8;
const MAX_REPORTED_LENGTH = 256;

function traceparentGuard(logger) {
  return function reportRejectedTraceparent(req, _res, next) {
    const { values, conflicting } = inspectTraceparent(req.headers);
    if (conflicting) {
      // The values are on the span (bounded); the log line only counts them.
      logger.warn({ header: 'traceparent', rejected_count: values.length }, 'rejected conflicting traceparent headers');
      const span = serverSpan();
      span.setAttribute('app.traceparent.rejected_count', values.length);
      for (const value of values.slice(0, MAX_REPORTED_VALUES)) {
        span.addEvent('app.traceparent.rejected', {
          'app.traceparent.value': value.slice(0, MAX_REPORTED_LENGTH),
        });
      }
    }
    next();
  };
}

module.exports = { traceparentGuard };

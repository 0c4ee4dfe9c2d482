'use strict';

// pino configured to produce the one log shape of the project
// (observability/log-schema.json). trace_id and span_id are added by
// @opentelemetry/instrumentation-pino (configured in telemetry/sdk.js), which
// patches pino when it is loaded: this module must be required after the
// telemetry setup has started, as `node --require ./src/instrumentation.js`
// guarantees.

const pino = require('pino');
const { currentRequestContext } = require('./request-context');

// pino level label -> the four levels of the schema.
const LEVEL_NAMES = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
};

// The schema requires these fields on every line; outside a request they are "".
const EMPTY_CORRELATION = { trace_id: '', span_id: '', x_trace_id: '' };

function createLogger({ service, level = 'INFO', destination } = {}) {
  return pino(
    {
      level: level.toLowerCase(),
      messageKey: 'message',
      base: { service },
      timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
      mixin() {
        const request = currentRequestContext();
        return request ? { x_trace_id: request.xTraceId } : {};
      },
      formatters: {
        level: (label) => ({ level: LEVEL_NAMES[label] ?? 'INFO' }),
        // Runs after the mixins (ours and the OpenTelemetry one) were merged,
        // so the defaults only fill what no context supplied.
        log: (fields) => ({ ...EMPTY_CORRELATION, ...fields }),
      },
    },
    // Synchronous writes: a line is on stdout before the next statement, so a
    // crash or process.exit() cannot lose or cut one.
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

module.exports = { createLogger };

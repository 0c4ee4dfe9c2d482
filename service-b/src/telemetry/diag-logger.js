'use strict';

// OpenTelemetry's internal diagnostics (export failures, bad settings)
// written through pino, so they come out as schema-conformant JSON lines
// instead of console text.

const { context, ROOT_CONTEXT } = require('@opentelemetry/api');
const { runOutsideRequestContext } = require('../request-context');

// Diagnostic arguments are mostly strings and errors; keep errors readable
// (pino would serialize a bare Error nested in an array as `{}`).
function loggable(value) {
  if (value instanceof Error) {
    return { type: value.name, message: value.message, code: value.code };
  }
  return value;
}

class PinoDiagLogger {
  constructor(logger) {
    this.logger = logger;
  }

  write(level, message, args) {
    // The exporter reports from timers started inside some request; its
    // messages belong to no request, so they must not borrow that request's ids.
    context.with(ROOT_CONTEXT, () =>
      runOutsideRequestContext(() => {
        const fields = { component: 'opentelemetry' };
        if (args.length > 0) {
          fields.details = args.map(loggable);
        }
        this.logger[level](fields, String(message));
      }),
    );
  }

  error(message, ...args) {
    this.write('error', message, args);
  }

  warn(message, ...args) {
    this.write('warn', message, args);
  }

  info(message, ...args) {
    this.write('info', message, args);
  }

  debug(message, ...args) {
    this.write('debug', message, args);
  }

  verbose(message, ...args) {
    this.write('debug', message, args);
  }
}

module.exports = { PinoDiagLogger };

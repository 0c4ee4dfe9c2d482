'use strict';

// Node prints process warnings and uncaught errors itself, as plain text on
// stderr. Every line this process writes must be a JSON log line (the native
// runner and the e2e suite validate each one), so both go through the logger.

function routeProcessDiagnostics(logger) {
  // Node's default printer is an ordinary 'warning' listener.
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    logger.warn({ warning: { type: warning.name, code: warning.code, message: warning.message } }, 'process warning');
  });

  // Also receives unhandled promise rejections (Node's default mode raises them).
  process.on('uncaughtException', (error, origin) => {
    logger.error({ err: error, origin }, 'uncaught exception, exiting');
    process.exit(1);
  });
}

module.exports = { routeProcessDiagnostics };

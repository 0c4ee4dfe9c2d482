'use strict';

// Per-request values that log lines need but that are not OpenTelemetry
// context: today only the X-Trace-ID. AsyncLocalStorage carries them across
// awaits the same way the OpenTelemetry context manager carries the span.

const { AsyncLocalStorage } = require('node:async_hooks');

const storage = new AsyncLocalStorage();

function runInRequestContext(values, fn) {
  return storage.run(values, fn);
}

function currentRequestContext() {
  return storage.getStore();
}

// For work that belongs to no request even when triggered from one (for
// example the exporter's own error reports).
function runOutsideRequestContext(fn) {
  return storage.exit(fn);
}

module.exports = { runInRequestContext, currentRequestContext, runOutsideRequestContext };

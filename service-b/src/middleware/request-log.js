'use strict';

// One `request completed` line per request, with method, route, status and
// duration_ms; INFO below 400, WARN for 4xx, ERROR for 5xx.

const { AsyncResource } = require('node:async_hooks');
const { performance } = require('node:perf_hooks');

// Polled by compose, Kubernetes and the readiness probe every few seconds: a
// line for each passing check would drown the real traffic.
const HEALTH_ROUTE = '/health';

function levelFor(status) {
  if (status >= 500) {
    return 'error';
  }
  return status >= 400 ? 'warn' : 'info';
}

function requestLog(logger) {
  return function logWhenDone(req, res, next) {
    const startedAt = performance.now();
    // 'finish' is emitted from the socket's write callback; binding the
    // listener keeps this request's context (server span, X-Trace-ID), and
    // 'finish' comes before the HTTP instrumentation ends the span on 'close'.
    let written = false;
    const writeLine = AsyncResource.bind(() => {
      if (written) {
        return;
      }
      written = true;
      const status = res.statusCode;
      // The matched template (/api/process), else the raw path.
      const route = req.route ? `${req.baseUrl}${req.route.path}` : req.originalUrl.split('?')[0];
      if (route === HEALTH_ROUTE && status < 400) {
        return; // docs/contract.md: health checks that pass are never logged
      }
      const fields = {
        method: req.method,
        route,
        status,
        duration_ms: Math.round((performance.now() - startedAt) * 1000) / 1000,
      };
      if (!res.writableFinished) {
        // The client went away before the answer was sent.
        fields.aborted = true;
      }
      logger[levelFor(status)](fields, 'request completed');
    });
    res.once('finish', writeLine);
    res.once('close', writeLine);
    next();
  };
}

module.exports = { requestLog, levelFor };

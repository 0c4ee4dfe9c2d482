'use strict';

// Graceful stop on SIGTERM/SIGINT (docs/contract.md): stop accepting
// connections, let in-flight requests finish (at most DRAIN_LIMIT_MS), then
// flush and shut down the tracer provider (at most FLUSH_LIMIT_MS) and exit 0.
// Both limits together stay below the 15 s the native runner waits before
// killing a process.

const { shutdownTelemetry } = require('./telemetry/lifecycle');

const DRAIN_LIMIT_MS = 10000;
const FLUSH_LIMIT_MS = 4000;

/**
 * Prepares `server` for a graceful close and returns the function doing it:
 * close({ drainLimitMs }) resolves to true when every request finished, false
 * when the remaining ones were cut at the limit.
 *
 * server.close() only drops idle keep-alive connections; one busy at that
 * moment would stay open after its answer (up to the keep-alive timeout), and
 * callers with a connection pool (nginx, the other services) would keep
 * sending requests on it. So answers sent once closing has begun carry
 * `Connection: close`, which makes Node close each connection after its answer.
 */
function prepareGracefulClose(server) {
  const inFlight = new Set();
  let closing = false;
  const closeAfterAnswer = (response) => {
    if (!response.headersSent) {
      response.setHeader('Connection', 'close');
    }
  };

  server.prependListener('request', (_request, response) => {
    if (closing) {
      closeAfterAnswer(response);
      return;
    }
    inFlight.add(response);
    response.once('close', () => inFlight.delete(response));
  });

  return function close({ drainLimitMs = DRAIN_LIMIT_MS } = {}) {
    closing = true;
    inFlight.forEach(closeAfterAnswer);
    return new Promise((resolve) => {
      let drained = true;
      const cutOff = setTimeout(() => {
        drained = false;
        server.closeAllConnections();
      }, drainLimitMs);
      server.close(() => {
        clearTimeout(cutOff);
        resolve(drained);
      });
    });
  };
}

function stopOnSignals(server, logger, { exit = process.exit } = {}) {
  const closeServer = prepareGracefulClose(server);
  let stopping = false;
  const stop = async (signal) => {
    if (stopping) {
      return;
    }
    stopping = true;
    logger.info({ signal }, 'stopping: draining requests');
    const drained = await closeServer();
    if (!drained) {
      logger.warn({ limit_ms: DRAIN_LIMIT_MS }, 'requests still running at the drain limit were cut');
    }
    const flushed = await shutdownTelemetry({ timeoutMs: FLUSH_LIMIT_MS });
    if (!flushed) {
      logger.warn({ limit_ms: FLUSH_LIMIT_MS }, 'spans could not all be exported before exit');
    }
    logger.info('stopped');
    exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

module.exports = { stopOnSignals, prepareGracefulClose, DRAIN_LIMIT_MS, FLUSH_LIMIT_MS };

'use strict';

// service-b's failure scenarios (docs/contract.md, "service-b"). Each maps
// one simulated failure to its HTTP status; the error handler records the
// failure on the server span.

const { strictRouter, serve } = require('./strict-router');
const { HttpError } = require('../http-errors');
const { sendJson } = require('../respond');
const {
  MEMORY_REQUEST_BYTES,
  MemoryLimitExceeded,
  OperationTimeout,
  SimulatedFailure,
  reserveMemory,
  runWithDeadline,
  shouldFail,
  simulateLatency,
  simulationParams,
} = require('../simulate');
const { queryOrders, DatabaseConnectionError } = require('../simulated-database');

// Runs `work`; a failure of class `failureClass` becomes an HttpError
// with `status` and `code`, anything else stays unexpected (500).
async function answerFailureAs(failureClass, status, code, work) {
  try {
    return await work();
  } catch (error) {
    if (error instanceof failureClass) {
      throw new HttpError(status, code, error.message, { cause: error });
    }
    throw error;
  }
}

function failureRoutes(config, guard) {
  const router = strictRouter();

  // Random failure, probability FAILURE_PROBABILITY unless `fail` forces it.
  serve(router, 'GET', '/api/error', guard, async (req, res) => {
    const { delayMs, fail } = simulationParams(req.query);
    await simulateLatency(delayMs);
    if (shouldFail(fail)) {
      const cause = new SimulatedFailure('random failure');
      throw new HttpError(500, 'simulated_error', cause.message, { cause });
    }
    sendJson(res, 200, { status: 'ok' });
  });

  // A slow operation (delay_ms, default 3000) abandoned at the service's own
  // deadline, DOWNSTREAM_TIMEOUT_MS. A delay that fits the deadline succeeds.
  serve(router, 'GET', '/api/timeout', guard, async (req, res) => {
    const { delayMs } = simulationParams(req.query, { defaultDelayMs: 3000 });
    await answerFailureAs(OperationTimeout, 504, 'timeout', () =>
      runWithDeadline(delayMs, config.downstreamTimeoutMs),
    );
    sendJson(res, 200, { status: 'completed', delay_ms: delayMs });
  });

  // A database query whose connection is refused (fail=false lets it succeed).
  serve(router, 'GET', '/api/db-error', guard, async (req, res) => {
    const { delayMs, fail } = simulationParams(req.query);
    const rows = await answerFailureAs(DatabaseConnectionError, 503, 'database_unavailable', () =>
      queryOrders({ delayMs, fail: fail ?? true }),
    );
    sendJson(res, 200, { status: 'ok', rows });
  });

  // An operation needing more memory than its budget; only arithmetic, nothing
  // is allocated (fail=false makes it ask for less than the budget).
  serve(router, 'GET', '/api/memory-error', guard, async (req, res) => {
    const { delayMs, fail } = simulationParams(req.query);
    await simulateLatency(delayMs);
    const requested = (fail ?? true) ? MEMORY_REQUEST_BYTES.failing : MEMORY_REQUEST_BYTES.fitting;
    const reservation = await answerFailureAs(MemoryLimitExceeded, 507, 'memory_limit_exceeded', () =>
      reserveMemory(requested),
    );
    sendJson(res, 200, {
      status: 'ok',
      reserved_bytes: reservation.reservedBytes,
      budget_bytes: reservation.budgetBytes,
    });
  });

  return router;
}

module.exports = { failureRoutes };

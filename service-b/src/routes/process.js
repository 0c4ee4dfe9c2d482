'use strict';

const { strictRouter, serve } = require('./strict-router');
const { HttpError } = require('../http-errors');
const { sendJson } = require('../respond');
const { simulationParams, simulateLatency, shouldFail, SimulatedFailure } = require('../simulate');

// GET /api/process: service-b's local work; fails only when asked (fail=true).
function processRoutes(guard) {
  const router = strictRouter();
  serve(router, 'GET', '/api/process', guard, async (req, res) => {
    const { delayMs, fail } = simulationParams(req.query);
    await simulateLatency(delayMs);
    if (shouldFail(fail ?? false)) {
      const cause = new SimulatedFailure('processing failed (fail=true)');
      throw new HttpError(500, 'processing_failed', cause.message, { cause });
    }
    sendJson(res, 200, { status: 'processed', delay_ms: delayMs });
  });
  return router;
}

module.exports = { processRoutes };

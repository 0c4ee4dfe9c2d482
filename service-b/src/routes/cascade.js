'use strict';

const { strictRouter, serve } = require('./strict-router');
const { simulationParams, simulateLatency } = require('../simulate');
const { relayTo } = require('./relay');

// GET /api/cascade: the middle hop of the failure-cascade scenario
// (A -> B -> C). B does its own work, then asks C to process with the fail
// flag it was given (default true), and fails with 502 when C does.
function cascadeRoutes(config, logger, guard) {
  const router = strictRouter();
  serve(router, 'GET', '/api/cascade', guard, async (req, res) => {
    const { delayMs, fail } = simulationParams(req.query);
    await simulateLatency(delayMs);
    await relayTo(res, config, logger, 'service-c', `/api/process?fail=${fail ?? true}`);
  });
  return router;
}

module.exports = { cascadeRoutes };

'use strict';

const { strictRouter, serve } = require('./strict-router');
const { relayTo } = require('./relay');

// Calls that start at service-b (scenarios circular-b-to-a, circular-b-to-c).
// Together with the other services' circular routes they are what
// X-Hop-Count exists for.
const ROUTES = [
  ['/api/demo/circular-b-to-a', 'service-a'],
  ['/api/demo/circular-b-to-c', 'service-c'],
];

function circularRoutes(config, logger, guard) {
  const router = strictRouter();
  for (const [path, target] of ROUTES) {
    serve(router, 'GET', path, guard, async (_req, res) => {
      await relayTo(res, config, logger, target, '/api/process');
    });
  }
  return router;
}

module.exports = { circularRoutes };

'use strict';

// Slow clients (docs/contract.md, "Slow clients"): a request's head must
// arrive within 5 s, as in service-a and service-c; Node's default is far longer.
// The body keeps its own deadline (middleware/body-deadline.js, answered with
// JSON); requestTimeout only backs it up, for a body no route reads.

const { BODY_READ_LIMIT_MS } = require('./middleware/body-deadline');

const HEAD_LIMIT_MS = 5000;

const clientDeadlines = {
  headersTimeout: HEAD_LIMIT_MS,
  // Past the latest moment the body deadline can fire, so its answer comes first.
  requestTimeout: HEAD_LIMIT_MS + BODY_READ_LIMIT_MS + 1000,
  // How often Node looks for requests past those limits (default 30 s).
  connectionsCheckingInterval: 250,
};

module.exports = { clientDeadlines, HEAD_LIMIT_MS };

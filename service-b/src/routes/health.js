'use strict';

const { strictRouter, serve } = require('./strict-router');
const { sendJson } = require('../respond');

// Liveness: answers as long as the process serves HTTP.
function healthRoutes(guard) {
  const router = strictRouter();
  serve(router, 'GET', '/health', guard, (_req, res) => {
    sendJson(res, 200, { status: 'ok' });
  });
  return router;
}

module.exports = { healthRoutes };

'use strict';

const { Router } = require('express');
const { sendJson } = require('../respond');

// Liveness: answers as long as the process serves HTTP.
function healthRoutes() {
  const router = Router();
  router.get('/health', (_req, res) => {
    sendJson(res, 200, { status: 'ok' });
  });
  return router;
}

module.exports = { healthRoutes };

'use strict';

const { Router } = require('express');
const { sendJson } = require('../respond');

// Liveness: answers as long as the process serves HTTP.
function healthRoutes(guard) {
  const router = Router();
  router.get('/health', guard, (_req, res) => {
    sendJson(res, 200, { status: 'ok' });
  });
  return router;
}

module.exports = { healthRoutes };

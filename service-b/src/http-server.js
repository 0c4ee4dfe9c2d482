'use strict';

// The service's HTTP server, built one way for src/server.js and for the
// tests (test-support/app.js), so the two cannot drift: the app, the client
// deadlines, the keep-alive policy, and JSON answers to what Node refuses.

const http = require('node:http');
const { createApp } = require('./app');
const { clientDeadlines } = require('./client-deadlines');
const { applyKeepAlivePolicy } = require('./keep-alive');
const { HTTP_SERVER_OPTIONS } = require('./middleware/protocol-rules');
const { answerProtocolRefusals } = require('./protocol-refusals');

function createServer({ config, logger }) {
  const server = http.createServer({ ...HTTP_SERVER_OPTIONS, ...clientDeadlines }, createApp({ config, logger }));
  applyKeepAlivePolicy(server, config);
  answerProtocolRefusals(server, { serviceName: config.serviceName, logger });
  return server;
}

module.exports = { createServer };

'use strict';

// Runs the service's server (src/http-server.js) on an ephemeral loopback
// port with its log lines captured.

const { once } = require('node:events');
const { before, after } = require('node:test');
const { loadConfig } = require('../src/config');
const { createLogger } = require('../src/logger');
const { createServer } = require('../src/http-server');

/** A pino destination that keeps each line. */
function memoryDestination() {
  const lines = [];
  return { lines, write: (line) => lines.push(line) };
}

async function startApp(env = {}) {
  const config = loadConfig({
    OTEL_SERVICE_NAME: 'service-b',
    DOWNSTREAM_TIMEOUT_MS: '500',
    CONFORMANCE_ENDPOINT: 'on', // as natively and in compose
    ...env,
  });
  const destination = memoryDestination();
  const logger = createLogger({ service: config.serviceName, level: config.logLevel, destination });
  const server = createServer({ config, logger });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    server,
    config,
    logger,
    rawLogLines: destination.lines,
    logLines: () => destination.lines.map((line) => JSON.parse(line)),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** One app for a whole test file: started before its tests, closed after them. */
function appForFile(env = {}) {
  const app = {};
  before(async () => Object.assign(app, await startApp(env)));
  after(() => app.close());
  return app;
}

module.exports = { startApp, appForFile, memoryDestination };

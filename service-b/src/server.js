'use strict';

// Process entry point: read the configuration, serve the app on HOST:PORT,
// stop gracefully on SIGTERM/SIGINT. Started as
//   node --require ./src/instrumentation.js src/server.js

const { loadConfig, serviceNameFrom } = require('./config');
const { createLogger } = require('./logger');
const { routeProcessDiagnostics } = require('./process-diagnostics');
const { stopOnSignals } = require('./shutdown');
const { createServer } = require('./http-server');

function main() {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    createLogger({ service: serviceNameFrom(process.env) }).error({ problems: error.problems }, error.message);
    process.exit(1);
  }

  const logger = createLogger({ service: config.serviceName, level: config.logLevel });
  routeProcessDiagnostics(logger);

  const server = createServer({ config, logger });
  server.on('error', (error) => {
    logger.error({ err: error }, 'server error, exiting');
    process.exit(1);
  });
  // Signal handlers first: once the `listening` line is out, SIGTERM is
  // guaranteed a graceful stop (the process tests and the runner rely on it).
  stopOnSignals(server, logger);
  server.listen(config.port, config.host, () => {
    logger.info({ host: config.host, port: server.address().port }, 'listening');
  });
}

main();

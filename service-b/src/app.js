'use strict';

// The Express application: request-level middleware, then the routes, then
// the JSON 404 and error answers. No telemetry setup here; that is preloaded
// by instrumentation.js before this module is loaded.

const express = require('express');
const { xTraceId } = require('./middleware/x-trace-id');
const { traceresponse } = require('./middleware/traceresponse');
const { requestLog } = require('./middleware/request-log');
const { traceparentGuard } = require('./middleware/traceparent-guard');
const { hopLimit } = require('./middleware/hop-limit');
const { protocolRules } = require('./middleware/protocol-rules');
const { errorHandler, notFound } = require('./middleware/error-handler');
const { healthRoutes } = require('./routes/health');
const { processRoutes } = require('./routes/process');
const { cascadeRoutes } = require('./routes/cascade');
const { circularRoutes } = require('./routes/circular');
const { failureRoutes } = require('./routes/failures');
const { conformanceRoutes } = require('./routes/conformance');

function createApp({ config, logger }) {
  const app = express();
  app.disable('x-powered-by');
  // Answers are per request; a 304 would hide the trace of the request.
  app.set('etag', false);
  // Exactly one spelling per route (docs/contract.md, "Input rules"); every
  // Router is created the same way by routes/strict-router.js.
  app.set('case sensitive routing', true);
  app.set('strict routing', true);
  app.locals.serviceName = config.serviceName;

  // Order matters: the X-Trace-ID first, so every later line and answer has it.
  app.use(xTraceId());
  app.use(traceresponse());
  app.use(requestLog(logger));
  app.use(traceparentGuard(logger));
  // Version and method first: docs/contract.md, "Input rules".
  app.use(protocolRules());

  // The hop limit runs as the first handler of every route rather than as
  // app-level middleware: Express matches routes only after app-level
  // middleware, and a request refused before that would leave its server
  // span without http.route.
  const guard = hopLimit(config.maxHops);
  app.use(healthRoutes(guard));
  app.use(processRoutes(guard));
  app.use(cascadeRoutes(config, logger, guard));
  app.use(circularRoutes(config, logger, guard));
  app.use(failureRoutes(config, guard));
  // Switched off, /test is no route at all: every method gets the 404 of an
  // unknown path.
  if (config.conformanceEndpoint) {
    app.use(conformanceRoutes(config, logger, guard));
  }

  app.use(notFound());
  app.use(errorHandler(logger));
  return app;
}

module.exports = { createApp };

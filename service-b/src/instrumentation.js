'use strict';

// Entry point of the telemetry, preloaded before the app:
//   node --require ./src/instrumentation.js src/server.js
// Preloading lets the OpenTelemetry instrumentations hook http, express,
// undici and pino before the app requires them. The setup itself lives in
// telemetry/sdk.js; server.js triggers the flush on shutdown through
// telemetry/lifecycle.js.

const { startTelemetry } = require('./telemetry/sdk');
const { onTelemetryShutdown } = require('./telemetry/lifecycle');

const sdk = startTelemetry();
onTelemetryShutdown(() => sdk.shutdown());

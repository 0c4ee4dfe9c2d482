'use strict';

// The service's real telemetry setup (src/telemetry/sdk.js) with spans kept
// in memory instead of exported. Must be required first by every test file
// that loads the app, so the instrumentations hook http, express, undici and
// pino before they are loaded.

const { InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace');
const { startTelemetry } = require('../src/telemetry/sdk');
const { waitFor } = require('./wait');

const exporter = new InMemorySpanExporter();
startTelemetry({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });

function spansOfTrace(traceId) {
  return exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
}

/**
 * Polls until `predicate(spans of the trace)` holds and returns those spans.
 * Server spans end when the response is closed, which can be just after the
 * client has read the answer.
 */
function waitForTrace(traceId, predicate, options) {
  return waitFor(() => {
    const spans = spansOfTrace(traceId);
    return predicate(spans) ? spans : undefined;
  }, options);
}

module.exports = { exporter, spansOfTrace, waitForTrace };

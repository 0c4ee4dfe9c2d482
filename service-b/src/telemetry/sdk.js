'use strict';

// The OpenTelemetry setup of service-b, in one place.
//
// Everything is configured by the standard environment: OTEL_SERVICE_NAME,
// OTEL_EXPORTER_OTLP_ENDPOINT / _PROTOCOL / _TIMEOUT, OTEL_BSP_*, OTEL_TRACES_SAMPLER,
// OTEL_RESOURCE_ATTRIBUTES, OTEL_LOG_LEVEL. Only traces leave the process over
// OTLP; logs are JSON lines on stdout (collected from there), metrics are
// derived from spans by the Collector.

const { diag, DiagLogLevel } = require('@opentelemetry/api');
const {
  CompositePropagator,
  W3CBaggagePropagator,
  diagLogLevelFromString,
  setGlobalErrorHandler,
} = require('@opentelemetry/core');
const { NodeSDK } = require('@opentelemetry/sdk-node');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { ExpressInstrumentation, ExpressLayerType } = require('@opentelemetry/instrumentation-express');
const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici');
const { PinoInstrumentation } = require('@opentelemetry/instrumentation-pino');

const { serviceNameFrom } = require('../config');
const { StrictTraceContextPropagator } = require('./strict-propagator');
const { PinoDiagLogger } = require('./diag-logger');
const { restoreServerFailure } = require('./server-span');
const { serverUrlAttributes, clientUrlAttributes } = require('./url-redaction');

function createInstrumentations() {
  return [
    // Request headers are never captured (Authorization, Cookie); credential
    // query parameters are redacted by the start-span hooks. Outbound calls
    // use fetch only, so node:http client spans are off: none can carry an
    // unredacted url.full.
    new HttpInstrumentation({
      applyCustomAttributesOnSpan: restoreServerFailure,
      startIncomingSpanHook: serverUrlAttributes,
      disableOutgoingRequestInstrumentation: true,
    }),
    // One INTERNAL span per request handler is useful; one per middleware
    // (x-trace-id, hop limit, ...) and per router is noise. Routes are still
    // named on the server span (http.route) when layers are ignored.
    new ExpressInstrumentation({
      ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER],
    }),
    // Outbound calls use fetch(); this instrumentation creates their CLIENT
    // spans and adds traceparent/tracestate. Nothing else may add them.
    new UndiciInstrumentation({ startSpanHook: clientUrlAttributes }),
    // Correlation only (trace_id/span_id in each line); the lines themselves
    // are collected from stdout, not sent as OTLP logs.
    new PinoInstrumentation({ disableLogSending: true }),
  ];
}

/**
 * NodeSDK answers OTEL_LOG_LEVEL by installing its own console logger, whose
 * plain-text lines would break the JSON-only output. The variable is honoured
 * below with the JSON diagnostics logger instead, so the SDK is constructed
 * without seeing it.
 */
function constructWithoutConsoleLogger(construct) {
  const level = process.env.OTEL_LOG_LEVEL;
  delete process.env.OTEL_LOG_LEVEL;
  try {
    return construct();
  } finally {
    if (level !== undefined) {
      process.env.OTEL_LOG_LEVEL = level;
    }
  }
}

/**
 * Starts the SDK and returns it (call `shutdown()` to flush).
 * `spanProcessors` replaces the OTLP export, for tests that collect spans in
 * memory.
 */
function startTelemetry({ spanProcessors } = {}) {
  const serviceName = serviceNameFrom(process.env);
  // Instrumentations hook `require` as soon as they are constructed, so they
  // are created before anything loads pino, express or http.
  const instrumentations = createInstrumentations();

  const sdk = constructWithoutConsoleLogger(() =>
    new NodeSDK({
      serviceName,
      instrumentations,
      textMapPropagator: new CompositePropagator({
        propagators: [new StrictTraceContextPropagator(), new W3CBaggagePropagator()],
      }),
      ...(spanProcessors ? { spanProcessors } : { traceExporter: new OTLPTraceExporter() }),
      metricReaders: [],
      logRecordProcessors: [],
    }),
  );

  // Required here, not at the top: pino must be loaded after the pino
  // instrumentation hooked `require` (above), or the app's logger would lack
  // trace ids.
  const { createLogger } = require('../logger');
  diag.setLogger(new PinoDiagLogger(createLogger({ service: serviceName, level: 'DEBUG' })), {
    logLevel: diagLogLevelFromString(process.env.OTEL_LOG_LEVEL) ?? DiagLogLevel.WARN,
  });
  // Failed exports end up here; the default handler would log a JSON-encoded
  // error inside the message.
  setGlobalErrorHandler((error) => diag.error('OpenTelemetry SDK error', error));

  sdk.start();
  return sdk;
}

module.exports = { startTelemetry };

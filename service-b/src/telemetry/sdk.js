'use strict';

// The OpenTelemetry setup of service-b, in one place.
//
// Everything is configured by the standard environment: OTEL_SERVICE_NAME,
// OTEL_EXPORTER_OTLP_ENDPOINT / _PROTOCOL / _TIMEOUT, OTEL_BSP_*, OTEL_TRACES_SAMPLER,
// OTEL_RESOURCE_ATTRIBUTES, OTEL_LOG_LEVEL, OTEL_TRACES_EXPORTER (otlp or
// none), OTEL_SDK_DISABLED. Only traces leave the process over OTLP; logs are
// JSON lines on stdout (collected from there), metrics are derived from spans
// by the Collector. Export retries through Collector outages: export.js.

const { diag, DiagLogLevel } = require('@opentelemetry/api');
const {
  CompositePropagator,
  W3CBaggagePropagator,
  diagLogLevelFromString,
  getBooleanFromEnv,
  getNumberFromEnv,
  getStringListFromEnv,
  setGlobalErrorHandler,
} = require('@opentelemetry/core');
const { NodeSDK } = require('@opentelemetry/sdk-node');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { ExpressInstrumentation, ExpressLayerType } = require('@opentelemetry/instrumentation-express');
const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici');
const { PinoInstrumentation } = require('@opentelemetry/instrumentation-pino');
const { ATTR_URL_QUERY } = require('@opentelemetry/semantic-conventions');

const { serviceNameFrom } = require('../config');
const { StrictTraceContextPropagator } = require('./strict-propagator');
const { PinoDiagLogger } = require('./diag-logger');
const { restoreServerFailure } = require('./server-span');
const { ExportHealth, RetryingSpanExporter } = require('./export');

// Health checks are never traced (docs/contract.md, "Logs"): the probes poll
// them every few seconds and would flood the store. The path percent-decoded,
// as service-c's instrumentation sees no other form.
function isHealthCheck(request) {
  try {
    return decodeURIComponent(request.url.split('?', 1)[0]) === '/health';
  } catch {
    return false; // a malformed escape: not /health
  }
}

// `startIncomingSpanHook`: url.query as received, as the other services record
// it. The instrumentation re-encodes it (URLSearchParams), turning a `;` or a
// `?` in a value into an escape, which would hide the credential after it from
// the Collector's redaction (docs/contract.md, "Secrets never stored").
function receivedQuery(request) {
  const target = request.url ?? '';
  const start = target.indexOf('?');
  return start === -1 ? {} : { [ATTR_URL_QUERY]: target.slice(start + 1) };
}

function createInstrumentations() {
  return [
    // Request headers are never captured (Authorization, Cookie). Outbound
    // calls use fetch only, so node:http client spans are off.
    new HttpInstrumentation({
      ignoreIncomingRequestHook: isHealthCheck,
      applyCustomAttributesOnSpan: restoreServerFailure,
      startIncomingSpanHook: receivedQuery,
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
    new UndiciInstrumentation(),
    // Correlation only (trace_id/span_id in each line); the lines themselves
    // are collected from stdout, not sent as OTLP logs.
    new PinoInstrumentation({ disableLogSending: true }),
  ];
}

/**
 * Variables honoured here rather than by NodeSDK's constructor:
 * - OTEL_LOG_LEVEL: NodeSDK would install its own console logger, whose
 *   plain-text lines would break the JSON-only output; the JSON diagnostics
 *   logger below honours it instead.
 * - OTEL_SDK_DISABLED: NodeSDK would skip start() entirely, leaving no
 *   propagator and no context manager, so even an incoming trace context
 *   would stop here. tracesExported() honours it instead: no tracer provider
 *   (no spans), propagation as usual.
 */
function constructWithoutEnv(names, construct) {
  const saved = names.map((name) => [name, process.env[name]]);
  names.forEach((name) => delete process.env[name]);
  try {
    return construct();
  } finally {
    saved.filter(([, value]) => value !== undefined).forEach(([name, value]) => (process.env[name] = value));
  }
}

/** False when OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none turn tracing off. */
function tracesExported(warn) {
  if (getBooleanFromEnv('OTEL_SDK_DISABLED')) {
    return false;
  }
  const exporters = getStringListFromEnv('OTEL_TRACES_EXPORTER') ?? [];
  if (exporters.includes('none')) {
    return false;
  }
  if (exporters.some((name) => name !== 'otlp')) {
    warn(`only otlp and none are supported, exporting with otlp (OTEL_TRACES_EXPORTER=${exporters.join(',')})`);
  }
  return true;
}

// The exporter's own timeout starts once the socket is connected, so a connect
// to a Collector pod that has just gone away waited for the kernel's SYN
// retries (about 2 min). The agent's socket timeout also bounds the connect.
function exportTimeoutMs() {
  return getNumberFromEnv('OTEL_EXPORTER_OTLP_TRACES_TIMEOUT') ?? getNumberFromEnv('OTEL_EXPORTER_OTLP_TIMEOUT') ?? 10000;
}

/** The OTLP exporter, configured by the standard environment. */
function otlpTraceExporter() {
  return new OTLPTraceExporter({ httpAgentOptions: { keepAlive: true, timeout: exportTimeoutMs() } });
}

function otlpExport(logger) {
  return {
    traceExporter: new RetryingSpanExporter(otlpTraceExporter(), new ExportHealth(logger)),
  };
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

  // Required here, not at the top: pino must be loaded after the pino
  // instrumentation hooked `require` (above), or the app's logger would lack
  // trace ids.
  const { createLogger } = require('../logger');
  const logger = createLogger({ service: serviceName, level: 'DEBUG' });
  const warnings = [];
  // An empty list: NodeSDK then registers no tracer provider at all.
  const exportSetup = spanProcessors
    ? { spanProcessors }
    : tracesExported((message) => warnings.push(message))
      ? otlpExport(logger)
      : { spanProcessors: [] };

  const sdk = constructWithoutEnv(['OTEL_LOG_LEVEL', 'OTEL_SDK_DISABLED'], () =>
    new NodeSDK({
      serviceName,
      instrumentations,
      textMapPropagator: new CompositePropagator({
        propagators: [new StrictTraceContextPropagator(), new W3CBaggagePropagator()],
      }),
      ...exportSetup,
      metricReaders: [],
      logRecordProcessors: [],
    }),
  );

  diag.setLogger(new PinoDiagLogger(logger), {
    logLevel: diagLogLevelFromString(process.env.OTEL_LOG_LEVEL) ?? DiagLogLevel.WARN,
  });
  warnings.forEach((message) => diag.warn(message));
  // Failed exports end up here; the default handler would log a JSON-encoded
  // error inside the message.
  setGlobalErrorHandler((error) => diag.error('OpenTelemetry SDK error', error));

  sdk.start();
  return sdk;
}

module.exports = { startTelemetry, tracesExported, otlpTraceExporter };

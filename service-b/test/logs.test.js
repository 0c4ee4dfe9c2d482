'use strict';

// Log lines: every one matches observability/log-schema.json.

require('../test-support/telemetry');
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { trace } = require('@opentelemetry/api');
const { memoryDestination } = require('../test-support/app');
const { assertValidLogLine } = require('../test-support/log-schema');
const { createLogger } = require('../src/logger');
const { runInRequestContext } = require('../src/request-context');
const { PinoDiagLogger } = require('../src/telemetry/diag-logger');

// The request line and hostile header values run against every service in
// tests/e2e/test_84_request_log_line.py, test_60_hostile_headers.py and
// test_90_log_files.py; these check the logger itself.
test('a line outside any request has empty correlation fields', () => {
  const destination = memoryDestination();
  createLogger({ service: 'service-b', destination }).info('outside');
  const line = assertValidLogLine(destination.lines[0]);
  assert.deepEqual(
    { trace_id: line.trace_id, span_id: line.span_id, x_trace_id: line.x_trace_id, level: line.level, service: line.service },
    { trace_id: '', span_id: '', x_trace_id: '', level: 'INFO', service: 'service-b' },
  );
  assert.match(line.timestamp, /Z$/);
});

test('inside a span and a request the ids come from the OpenTelemetry integration', () => {
  const destination = memoryDestination();
  const logger = createLogger({ service: 'service-b', destination });
  trace.getTracer('test').startActiveSpan('work', (span) => {
    runInRequestContext({ xTraceId: 'trace-1' }, () => logger.info('inside'));
    span.end();
    const line = assertValidLogLine(destination.lines[0]);
    assert.equal(line.trace_id, span.spanContext().traceId);
    assert.equal(line.span_id, span.spanContext().spanId);
    assert.equal(line.x_trace_id, 'trace-1');
  });
});

const LEVELS = [
  ['trace', 'DEBUG'],
  ['debug', 'DEBUG'],
  ['info', 'INFO'],
  ['warn', 'WARN'],
  ['error', 'ERROR'],
  ['fatal', 'ERROR'],
];

for (const [method, level] of LEVELS) {
  test(`pino's ${method} is written as ${level}`, () => {
    const destination = memoryDestination();
    const logger = createLogger({ service: 'service-b', level: 'DEBUG', destination });
    logger.level = 'trace';
    logger[method]('message');
    assert.equal(assertValidLogLine(destination.lines[0]).level, level);
  });
}

test('LOG_LEVEL filters lines', () => {
  const destination = memoryDestination();
  const logger = createLogger({ service: 'service-b', level: 'WARN', destination });
  logger.info('dropped');
  logger.warn('kept');
  assert.deepEqual(destination.lines.map((line) => JSON.parse(line).message), ['kept']);
});

test('OpenTelemetry diagnostics are JSON lines that belong to no request', () => {
  const destination = memoryDestination();
  const diagLogger = new PinoDiagLogger(createLogger({ service: 'service-b', level: 'DEBUG', destination }));
  trace.getTracer('test').startActiveSpan('some request', (span) => {
    runInRequestContext({ xTraceId: 'trace-1' }, () => {
      diagLogger.error('export failed', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    });
    span.end();
  });
  const line = assertValidLogLine(destination.lines[0]);
  assert.deepEqual(
    { level: line.level, message: line.message, trace_id: line.trace_id, x_trace_id: line.x_trace_id, details: line.details },
    {
      level: 'ERROR',
      message: 'export failed',
      trace_id: '',
      x_trace_id: '',
      details: [{ type: 'Error', message: 'connect ECONNREFUSED', code: 'ECONNREFUSED' }],
    },
  );
});

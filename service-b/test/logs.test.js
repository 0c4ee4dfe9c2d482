'use strict';

// Log lines: every one matches observability/log-schema.json, whatever the
// request looked like.

require('../test-support/telemetry');
const { test } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { once } = require('node:events');
const { trace } = require('@opentelemetry/api');
const { send } = require('../test-support/http');
const { appForFile, memoryDestination } = require('../test-support/app');
const { assertValidLogLine } = require('../test-support/log-schema');
const { createLogger } = require('../src/logger');
const { runInRequestContext } = require('../src/request-context');
const { PinoDiagLogger } = require('../src/telemetry/diag-logger');
const { isValidXTraceId } = require('../src/middleware/x-trace-id');
const { waitFor } = require('../test-support/wait');

const app = appForFile();

function linesOf(xTraceId) {
  return app.logLines().filter((line) => line.x_trace_id === xTraceId);
}

// [request, expected level of its `request completed` line, expected route]
const REQUEST_LINES = [
  [{ path: '/api/process?fail=false' }, 'INFO', '/api/process', 200],
  [{ path: '/api/process?delay_ms=x' }, 'WARN', '/api/process', 400],
  [{ path: '/no/such/route?q=1' }, 'WARN', '/no/such/route', 404],
  [{ path: '/api/process?fail=true' }, 'ERROR', '/api/process', 500],
  [{ path: '/api/memory-error' }, 'ERROR', '/api/memory-error', 507],
  [{ path: '/api/process', headers: { 'x-hop-count': '99' } }, 'ERROR', '/api/process', 508],
];

for (const [request, level, route, status] of REQUEST_LINES) {
  test(`one "request completed" line at ${level} for ${request.path}`, async () => {
    const response = await send(`${app.url}${request.path}`, { headers: request.headers });
    assert.equal(response.status, status);
    const xTraceId = response.headers['x-trace-id'];
    const [, traceId] = response.headers.traceresponse.split('-');
    // The line is written on the response's 'finish', which may come after
    // the client has read the answer: wait for it, then check there is one.
    await waitFor(() => linesOf(xTraceId).some((line) => line.message === 'request completed'), {
      what: `the request completed line of ${xTraceId}`,
    });
    const completed = linesOf(xTraceId).filter((line) => line.message === 'request completed');
    assert.equal(completed.length, 1);
    const [line] = completed;
    assert.deepEqual(
      { level: line.level, method: line.method, route: line.route, status: line.status, trace_id: line.trace_id },
      { level, method: 'GET', route, status, trace_id: traceId },
    );
    assert.match(line.span_id, /^[0-9a-f]{16}$/);
    assert.equal(typeof line.duration_ms, 'number');
  });
}

// docs/contract.md, "Logs": health checks poll every few seconds; one that
// passes writes no line. The health check's 'finish' comes long before a
// request sent after its answer is logged, so once that request's line is
// there, a line for the health check would be too.
test('a passing health check writes no request line', async () => {
  const health = await send(`${app.url}/health`);
  assert.equal(health.status, 200);
  const marker = await send(`${app.url}/api/process?fail=false`);
  await waitFor(() => linesOf(marker.headers['x-trace-id']).some((line) => line.message === 'request completed'), {
    what: 'the marker request line',
  });
  assert.deepEqual(linesOf(health.headers['x-trace-id']).filter((line) => line.message === 'request completed'), []);
});

const TEN_KB = 'A'.repeat(10 * 1024);
const HOSTILE_HEADERS = [
  ['X-Trace-ID with quotes', { 'x-trace-id': 'evil"id\\"}{' }],
  ['X-Trace-ID that looks like JSON', { 'x-trace-id': '{"level":"ERROR","message":"forged"}' }],
  ['X-Trace-ID of 10 KB', { 'x-trace-id': TEN_KB }],
  ['X-Trace-ID with latin-1 bytes', { 'x-trace-id': 'caf\u00e9\u00ff' }],
  ['traceparent of 10 KB', { traceparent: TEN_KB }],
  // Two of 10 KB would exceed Node's 16 KB header limit (answered 431 by Node).
  ['conflicting 6 KB traceparents', { traceparent: ['A'.repeat(6144), 'B'.repeat(6144)] }],
  ['X-Hop-Count of 10 KB', { 'x-hop-count': TEN_KB }],
  ['tracestate full of junk', { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: '",\\,=,'.repeat(500) }],
];

for (const [name, headers] of HOSTILE_HEADERS) {
  test(`hostile header (${name}): an answer, a fresh X-Trace-ID and valid lines`, async () => {
    const response = await send(`${app.url}/api/process`, { headers });
    assert.ok([200, 400].includes(response.status));
    const xTraceId = response.headers['x-trace-id'];
    assert.ok(isValidXTraceId(xTraceId));
    assert.match(xTraceId, /^trace-/);
    const ofRequest = () => app.rawLogLines.filter((line) => line.includes(xTraceId));
    await waitFor(() => ofRequest().some((line) => line.includes('"request completed"')), {
      what: `the request completed line of ${xTraceId}`,
    });
    const lines = ofRequest();
    for (const line of lines) {
      assertValidLogLine(line);
    }
  });
}

test('a header with a raw line break is refused by the HTTP parser and the service goes on', async () => {
  const socket = net.connect(new URL(app.url).port, '127.0.0.1');
  await once(socket, 'connect');
  socket.end('GET /health HTTP/1.1\r\nHost: x\r\nX-Trace-ID: a\rb\r\n\r\n');
  let answer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => {
    answer += chunk;
  });
  await once(socket, 'close');
  assert.match(answer, /^HTTP\/1\.1 400/);
  assert.equal((await send(`${app.url}/health`)).status, 200);
});

test('every line written so far matches the schema', () => {
  assert.ok(app.rawLogLines.length > 10);
  for (const line of app.rawLogLines) {
    assertValidLogLine(line);
  }
});

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

'use strict';

// service-b's endpoints where no e2e row reaches, driven by one table: HTTP
// status and body, response headers, and the spans the request produced. The
// demo scenarios (tests/e2e/test_10_scenarios.py) check /api/error,
// /api/db-error, /api/memory-error and the circular calls through the real
// services; tests/e2e/test_50_bad_input.py the input rules.

const { spansOfTrace, waitForTrace } = require('../test-support/telemetry');
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { SpanKind, SpanStatusCode } = require('@opentelemetry/api');
const { send, startFakeServer, refusedUrl } = require('../test-support/http');
const { startApp } = require('../test-support/app');
const { isValidXTraceId } = require('../src/middleware/x-trace-id');

// The deadline under test (the slow app, /api/timeout); everything that should
// answer gets GENEROUS_TIMEOUT_MS so a busy machine cannot turn it into a timeout.
const DOWNSTREAM_TIMEOUT_MS = 300;
const GENEROUS_TIMEOUT_MS = 10000;

// Stand-ins for service-a and service-c: /api/process honours fail=true.
function fakeService(name, { delayMs = 0 } = {}) {
  return startFakeServer((request) =>
    request.url.includes('fail=true')
      ? { status: 500, body: { service: name, error: 'processing_failed' }, delayMs }
      : { status: 200, body: { service: name, status: 'processed' }, delayMs },
  );
}

const apps = {};
const fakes = {};

before(async () => {
  fakes.a = await fakeService('service-a');
  fakes.c = await fakeService('service-c');
  fakes.slow = await fakeService('service-c', { delayMs: 60000 });
  const base = { DOWNSTREAM_TIMEOUT_MS: String(GENEROUS_TIMEOUT_MS) };
  apps.healthy = await startApp({ ...base, SERVICE_A_URL: fakes.a.url, SERVICE_C_URL: fakes.c.url });
  const refused = await refusedUrl();
  apps.unreachable = await startApp({ ...base, SERVICE_A_URL: refused, SERVICE_C_URL: refused });
  apps.slow = await startApp({
    DOWNSTREAM_TIMEOUT_MS: String(DOWNSTREAM_TIMEOUT_MS),
    SERVICE_A_URL: fakes.slow.url,
    SERVICE_C_URL: fakes.slow.url,
  });
});

after(async () => {
  await Promise.all([...Object.values(apps), ...Object.values(fakes)].map((part) => part.close()));
});

// server: expected server span; clients: expected CLIENT spans (in order).
const ENDPOINTS = [
  { path: '/api/process', status: 200, body: { status: 'processed', delay_ms: 0 }, server: { route: '/api/process' } },
  { path: '/api/process?delay_ms=30', status: 200, body: { delay_ms: 30 }, server: { route: '/api/process', attributes: { 'app.simulated_delay_ms': 30 } } },
  { path: '/api/process?fail=false', status: 200, body: { status: 'processed' }, server: {} },
  { path: '/api/process?fail=true', status: 500, body: { error: 'processing_failed' }, server: { errorType: 'SimulatedFailure' } },
  { app: 'slow', path: '/api/timeout', status: 504, body: { error: 'timeout' }, server: { route: '/api/timeout', errorType: 'timeout', attributes: { 'app.simulated_delay_ms': 3000 } } },
  { app: 'slow', path: '/api/timeout?delay_ms=10', status: 200, body: { status: 'completed', delay_ms: 10 }, server: { route: '/api/timeout' } },
  { path: '/api/db-error?fail=false', status: 200, body: { rows: [] }, server: {}, clients: [{ name: 'SELECT orders', error: false }] },
  { path: '/api/memory-error?fail=false', status: 200, body: { status: 'ok', budget_bytes: 1048576 }, server: {} },
  {
    path: '/api/cascade',
    status: 502,
    body: { error: 'downstream_failed', results: { 'service-c': { error: 'processing_failed', status: 500 } } },
    server: { route: '/api/cascade', errorType: 'http.500' },
    clients: [{ to: 'c', path: '/api/process?fail=true', status: 500, error: true }],
  },
  {
    path: '/api/cascade?fail=false',
    status: 200,
    body: { results: { 'service-c': { service: 'service-c', status: 'processed' } } },
    server: { route: '/api/cascade' },
    clients: [{ to: 'c', path: '/api/process?fail=false', status: 200, error: false }],
  },
  {
    app: 'unreachable',
    path: '/api/demo/circular-b-to-a',
    status: 502,
    body: { results: { 'service-a': { error: 'unreachable', status: null } } },
    server: { errorType: 'unreachable' },
    clients: [{ status: null, error: true, errorType: 'ECONNREFUSED' }],
  },
  {
    app: 'slow',
    path: '/api/demo/circular-b-to-c',
    status: 502,
    body: { results: { 'service-c': { error: 'timeout', status: null } } },
    server: { errorType: 'timeout' },
    clients: [{ status: null, error: true, errorType: 'TimeoutError' }],
  },
  { path: '/api/process', headers: { 'x-hop-count': '5' }, status: 200, body: {}, server: { attributes: { 'app.hop_count': 5 } } },
  { path: '/api/process', headers: { 'x-hop-count': '6' }, status: 508, body: { error: 'loop_detected' }, server: { errorType: 'HopLimitExceeded', attributes: { 'app.hop_count': 6, 'http.route': '/api/process' } } },
];

function attribute(span, name) {
  return span.attributes[name];
}

for (const row of ENDPOINTS) {
  const label = `GET ${row.path}${row.headers ? ` ${JSON.stringify(row.headers)}` : ''}${row.app ? ` (${row.app} downstream)` : ''}`;

  test(`${label} -> ${row.status}`, async () => {
    const app = apps[row.app ?? 'healthy'];
    const fake = row.clients?.[0]?.to ? fakes[row.clients[0].to] : undefined;
    const receivedBefore = fake?.received.length ?? 0;

    const response = await send(`${app.url}${row.path}`, { headers: row.headers });

    // Status and body.
    assert.equal(response.status, row.status);
    const { body } = response;
    assert.equal(body.service, 'service-b');
    for (const [key, value] of Object.entries(row.body)) {
      assert.deepEqual(body[key], value, `body.${key}`);
    }
    if (row.status >= 400) {
      assert.equal(typeof body.message, 'string');
    }

    // X-Trace-ID minted, echoed in header and body.
    assert.ok(isValidXTraceId(response.headers['x-trace-id']));
    assert.equal(body.trace_id, response.headers['x-trace-id']);

    // traceresponse names the server span.
    const [, traceId, serverSpanId, flags] = response.headers.traceresponse.split('-');
    assert.equal(body.otel_trace_id, traceId);
    assert.equal(flags, '01');
    const spans = await waitForTrace(traceId, (found) => found.some((span) => span.spanContext().spanId === serverSpanId));
    const server = spans.find((span) => span.spanContext().spanId === serverSpanId);
    assert.equal(server.kind, SpanKind.SERVER);
    assert.equal(server.parentSpanContext, undefined, 'no incoming context: a root span');
    assert.equal(attribute(server, 'app.x_trace_id'), body.trace_id);
    assert.equal(attribute(server, 'http.response.status_code'), row.status);
    if (row.server.route) {
      assert.equal(attribute(server, 'http.route'), row.server.route);
      assert.equal(server.name, `GET ${row.server.route}`);
    }
    for (const [name, value] of Object.entries(row.server.attributes ?? {})) {
      assert.equal(attribute(server, name), value, name);
    }

    // 5xx: ERROR, exception event, application error.type; otherwise clean.
    const exceptions = server.events.filter((event) => event.name === 'exception');
    if (row.status >= 500) {
      assert.equal(server.status.code, SpanStatusCode.ERROR);
      assert.equal(exceptions.length, 1);
      assert.equal(attribute(server, 'error.type'), row.server.errorType);
    } else {
      assert.equal(server.status.code, SpanStatusCode.UNSET);
      assert.equal(exceptions.length, 0);
      assert.equal(attribute(server, 'error.type'), undefined);
    }

    // CLIENT spans: the simulated database or the outbound HTTP calls.
    const expectedClients = row.clients ?? [];
    const clients = spansOfTrace(traceId).filter((span) => span.kind === SpanKind.CLIENT);
    assert.equal(clients.length, expectedClients.length);
    expectedClients.forEach((expected, index) => {
      const client = clients[index];
      if (expected.name) {
        assert.equal(client.name, expected.name);
      }
      if ('status' in expected) {
        assert.equal(attribute(client, 'http.response.status_code'), expected.status ?? undefined);
      }
      assert.equal(client.status.code === SpanStatusCode.ERROR, expected.error, 'client span error');
      if (expected.errorType) {
        assert.equal(attribute(client, 'error.type'), expected.errorType);
      }
    });

    // What the downstream service received.
    if (fake) {
      const calls = fake.received.slice(receivedBefore);
      assert.equal(calls.length, 1);
      const [call] = calls;
      assert.equal(call.url, row.clients[0].path);
      assert.deepEqual(call.headers['x-trace-id'], [body.trace_id]);
      assert.deepEqual(call.headers['x-hop-count'], [String(Number(row.headers?.['x-hop-count'] ?? 0) + 1)]);
      assert.equal(call.headers.traceparent.length, 1, 'exactly one traceparent line');
      assert.equal(call.headers.traceparent[0], `00-${traceId}-${clients[0].spanContext().spanId}-01`);
    }
  });
}

test('a valid incoming X-Trace-ID is kept everywhere', async () => {
  const id = 'trace-20261125T004012Z-1a2b3c4d';
  const response = await send(`${apps.healthy.url}/api/demo/circular-b-to-c`, { headers: { 'x-trace-id': id } });
  assert.equal(response.headers['x-trace-id'], id);
  assert.equal(response.body.trace_id, id);
  assert.deepEqual(fakes.c.received.at(-1).headers['x-trace-id'], [id]);
});

test('random failures happen both ways when fail is absent', async () => {
  const statuses = new Set();
  for (let attempt = 0; attempt < 60 && statuses.size < 2; attempt += 1) {
    statuses.add((await send(`${apps.healthy.url}/api/error`)).status);
  }
  assert.deepEqual([...statuses].sort(), [200, 500]);
});

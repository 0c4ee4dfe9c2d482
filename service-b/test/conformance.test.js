'use strict';

// POST /test, the W3C Trace Context test suite's entry point.

const { spansOfTrace, waitForTrace } = require('../test-support/telemetry');
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { SpanKind } = require('@opentelemetry/api');
const { send, startFakeServer, refusedUrl } = require('../test-support/http');
const { startApp } = require('../test-support/app');

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT = `00-${TRACE_ID}-b7ad6b7169203331-01`;

let app;
let harness;

before(async () => {
  app = await startApp();
  harness = await startFakeServer(() => ({ status: 200, body: {} }));
});

after(async () => {
  await app.close();
  await harness.close();
});

function postTest(body, headers = {}) {
  return send(`${app.url}/test`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

test('three calls: in order, each with exactly one traceparent and its own CLIENT span', async () => {
  const before = harness.received.length;
  const calls = [1, 2, 3].map((step) => ({ url: `${harness.url}/step/${step}`, arguments: [{ step }] }));
  const response = await postTest(calls, { traceparent: PARENT, tracestate: 'vendor=value' });
  assert.equal(response.status, 200);
  assert.deepEqual(response.body, []);

  const received = harness.received.slice(before);
  assert.deepEqual(received.map((call) => [call.method, call.url, call.body]), [
    ['POST', '/step/1', [{ step: 1 }]],
    ['POST', '/step/2', [{ step: 2 }]],
    ['POST', '/step/3', [{ step: 3 }]],
  ]);
  for (const call of received) {
    assert.equal(call.headers.traceparent.length, 1, 'exactly one traceparent line');
    assert.deepEqual(call.headers.tracestate, ['vendor=value']);
  }
  const parents = received.map((call) => call.headers.traceparent[0].split('-'));
  assert.ok(parents.every(([version, traceId, , flags]) => version === '00' && traceId === TRACE_ID && flags === '01'));
  const parentIds = parents.map(([, , spanId]) => spanId);
  assert.equal(new Set(parentIds).size, 3, 'distinct parent ids');

  // Each parent id is one of the service's CLIENT spans.
  await waitForTrace(TRACE_ID, (spans) => spans.filter((span) => span.kind === SpanKind.CLIENT).length >= 3);
  const clientIds = spansOfTrace(TRACE_ID)
    .filter((span) => span.kind === SpanKind.CLIENT)
    .map((span) => span.spanContext().spanId);
  assert.deepEqual(parentIds.filter((id) => clientIds.includes(id)), parentIds);
});

test('an empty list answers [] without calls', async () => {
  const before = harness.received.length;
  const response = await postTest([]);
  assert.equal(response.status, 200);
  assert.deepEqual(response.body, []);
  assert.equal(harness.received.length, before);
});

test('a call that fails does not fail the request', async () => {
  const response = await postTest([{ url: `${await refusedUrl()}/`, arguments: [] }]);
  assert.equal(response.status, 200);
  assert.ok(app.logLines().some((line) => line.message === 'conformance call failed' && line.error === 'unreachable'));
});

const MALFORMED = [
  ['not JSON', '{"url": ', {}, 400, 'invalid_body'],
  ['arguments not an array', [{ url: 'http://127.0.0.1:1/', arguments: { a: 1 } }], {}, 400, 'invalid_body'],
  ['a compressed body in an unsupported encoding', '[]', { 'content-encoding': 'br-unknown' }, 400, 'invalid_body'],
  ['an unsupported charset', '[]', { 'content-type': 'application/json; charset=klingon' }, 400, 'invalid_body'],
  ['an object instead of an array', { url: 'http://127.0.0.1:1/', arguments: [] }, {}, 400, 'invalid_body'],
  ['a url that is not a string', [{ url: 5, arguments: [] }], {}, 400, 'invalid_body'],
  ['a url that is not http(s)', [{ url: 'file:///etc/passwd', arguments: [] }], {}, 400, 'invalid_body'],
  ['an entry without arguments', [{ url: 'http://127.0.0.1:1/' }], {}, 400, 'invalid_body'],
  ['arguments a string', [{ url: 'http://127.0.0.1:1/', arguments: 'notalist' }], {}, 400, 'invalid_body'],
  ['arguments null', [{ url: 'http://127.0.0.1:1/', arguments: null }], {}, 400, 'invalid_body'],
  ['keys in another case', [{ URL: 'http://127.0.0.1:1/', Arguments: [] }], {}, 400, 'invalid_body'],
  ['a null entry', [null], {}, 400, 'invalid_body'],
  ['more than 32 calls', Array(33).fill({ url: 'http://127.0.0.1:1/', arguments: [] }), {}, 400, 'invalid_body'],
  ['no JSON content type', '[]', { 'content-type': 'text/plain' }, 400, 'invalid_body'],
  ['a body over 64 KiB', JSON.stringify([{ url: 'http://127.0.0.1:1/', arguments: ['x'.repeat(70000)] }]), {}, 413, 'body_too_large'],
];

for (const [name, body, headers, status, code] of MALFORMED) {
  test(`malformed body (${name}) -> ${status} ${code}`, async () => {
    const response = await postTest(body, headers);
    assert.equal(response.status, status);
    assert.equal(response.body.error, code);
    assert.equal(response.body.service, 'service-b');
  });
}

test('a body of exactly 64 KiB is read', async () => {
  const response = await postTest('[]'.padEnd(64 * 1024, ' '));
  assert.equal(response.status, 200);
  assert.deepEqual(response.body, []);
});

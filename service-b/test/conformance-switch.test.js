'use strict';

// CONFORMANCE_ENDPOINT=off (docs/contract.md, "Environment"): /test is no
// route, so every method gets exactly the answer of an unknown path, and the
// URL the body names is never called.

require('../test-support/telemetry');
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { send, startFakeServer } = require('../test-support/http');
const { startApp } = require('../test-support/app');

let app;
let target;

before(async () => {
  app = await startApp({ CONFORMANCE_ENDPOINT: 'off' });
  target = await startFakeServer();
});

after(async () => {
  await app.close();
  await target.close();
});

function request(method, path) {
  return send(`${app.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: method === 'GET' || method === 'HEAD' ? undefined : JSON.stringify([{ url: `${target.url}/never`, arguments: [] }]),
  });
}

for (const method of ['POST', 'GET', 'HEAD', 'PUT', 'OPTIONS']) {
  test(`${method} /test answers as an unknown path`, async () => {
    const unknown = await request(method, '/no-such-route');
    const response = await request(method, '/test');
    assert.equal(response.status, 404);
    assert.equal(response.headers.allow, undefined);
    assert.equal(response.headers['content-type'], unknown.headers['content-type']);
    if (method !== 'HEAD') {
      assert.equal(response.body.error, 'not_found');
      assert.deepEqual([response.body.error, response.body.message], [unknown.body.error, unknown.body.message]);
    }
  });
}

test('the URL in the body is never called', () => {
  assert.deepEqual(target.received, []);
});

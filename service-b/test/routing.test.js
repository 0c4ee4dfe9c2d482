'use strict';

// docs/contract.md "Input rules", method and path: exactly one spelling per
// route (404 not_found otherwise), a known path answers only its method (405
// method_not_allowed with Allow), HEAD wherever GET is, no OPTIONS.

require('../test-support/telemetry');
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { send } = require('../test-support/http');
const { startApp } = require('../test-support/app');

let app;

before(async () => {
  app = await startApp();
});

after(() => app.close());

// Spellings that must not reach a route (POST /test is the one that matters:
// it makes the service call any URL).
const NOT_FOUND = [
  ['POST', '/TEST'],
  ['POST', '/Test'],
  ['POST', '/test/'],
  ['POST', '/test//'],
  ['POST', '//test'],
  ['POST', '/TeSt//'],
  ['POST', '/test%2f'],
  ['POST', '/test%2F'],
  ['POST', '/%74est'],
  ['POST', '/test;a=b'],
  ['POST', '/test;'],
  ['POST', '/./test'],
  ['POST', '/x/../test'],
  ['GET', '/HEALTH'],
  ['GET', '/health/'],
  ['GET', '/api//process'],
  ['GET', '/api/process/'],
  ['GET', '/API/process'],
  ['GET', '/api/process;jsessionid=1'],
  ['GET', '/no/such/route'],
  ['OPTIONS', '/no/such/route'],
  ['OPTIONS', '*'],
];

for (const [method, path] of NOT_FOUND) {
  test(`${method} ${path} -> 404 not_found`, async () => {
    const response = await send(app.url, {
      method,
      path,
      headers: { 'content-type': 'application/json' },
      body: method === 'POST' ? '[]' : undefined,
    });
    assert.equal(response.status, 404);
    assert.equal(response.body.error, 'not_found');
    assert.equal(response.body.service, 'service-b');
  });
}

// [method, path, Allow]
const NOT_ALLOWED = [
  ['GET', '/test', 'POST'],
  ['HEAD', '/test', 'POST'],
  ['PUT', '/test', 'POST'],
  ['OPTIONS', '/test', 'POST'],
  ['POST', '/health', 'GET, HEAD'],
  ['DELETE', '/api/process', 'GET, HEAD'],
  ['OPTIONS', '/api/process', 'GET, HEAD'],
  ['PATCH', '/api/cascade', 'GET, HEAD'],
  ['POST', '/api/demo/circular-b-to-a', 'GET, HEAD'],
  ['PUT', '/api/error', 'GET, HEAD'],
  ['POST', '/api/timeout', 'GET, HEAD'],
  ['DELETE', '/api/db-error', 'GET, HEAD'],
  ['POST', '/api/memory-error', 'GET, HEAD'],
];

for (const [method, path, allow] of NOT_ALLOWED) {
  test(`${method} ${path} -> 405 method_not_allowed, Allow: ${allow}`, async () => {
    const response = await send(`${app.url}${path}`, { method });
    assert.equal(response.status, 405);
    assert.equal(response.headers.allow, allow);
    if (method !== 'HEAD') {
      assert.equal(response.body.error, 'method_not_allowed');
    }
  });
}

test('the method is checked before the hop count', async () => {
  const response = await send(`${app.url}/api/process`, { method: 'DELETE', headers: { 'x-hop-count': 'abc' } });
  assert.equal(response.status, 405);
});

test('the path is checked before the hop count', async () => {
  const response = await send(`${app.url}/API/process`, { headers: { 'x-hop-count': 'abc' } });
  assert.equal(response.status, 404);
});

test('HEAD is served wherever GET is, without a body', async () => {
  const response = await send(`${app.url}/api/process`, { method: 'HEAD' });
  assert.equal(response.status, 200);
  assert.equal(response.body, '');
  assert.match(response.headers.traceresponse, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]$/);
});

'use strict';

// POST /test, the W3C Trace Context test suite's entry point: the bodies only
// service-b's body parser refuses. The calls (order, one traceparent each,
// tracestate, a failed call logged and passed over) are rows of
// tests/e2e/test_40_outbound_traceparent.py, the other body rules rows of
// tests/e2e/test_50_bad_input.py, for all three services.

require('../test-support/telemetry');
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { send } = require('../test-support/http');
const { startApp } = require('../test-support/app');

let app;

before(async () => {
  app = await startApp();
});

after(async () => {
  await app.close();
});

function postTest(body, headers) {
  return send(`${app.url}/test`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

const MALFORMED = [
  ['a compressed body in an unsupported encoding', '[]', { 'content-encoding': 'br-unknown' }, 400, 'invalid_body'],
  ['an unsupported charset', '[]', { 'content-type': 'application/json; charset=klingon' }, 400, 'invalid_body'],
  ['no JSON content type', '[]', { 'content-type': 'text/plain' }, 400, 'invalid_body'],
];

for (const [name, body, headers, status, code] of MALFORMED) {
  test(`malformed body (${name}) -> ${status} ${code}`, async () => {
    const response = await postTest(body, headers);
    assert.equal(response.status, status);
    assert.equal(response.body.error, code);
    assert.equal(response.body.service, 'service-b');
  });
}

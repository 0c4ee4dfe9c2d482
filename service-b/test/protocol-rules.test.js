'use strict';

// docs/contract.md "Input rules", version and method, over a raw socket: what
// Node's parser lets through is refused by the app before routing -- HTTP/2.0
// and HTTP/0.9 request lines with 505, a method no service implements with
// 501 -- and CONNECT, which Node keeps from the app, gets the same 501 (but
// no span, so no otel_trace_id) instead of a closed connection.

require('../test-support/telemetry');
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { startApp } = require('../test-support/app');

let app;

before(async () => {
  app = await startApp();
});

after(() => app.close());

/** Writes `requestLine` with `hostLines` and reads the answer until the server closes. */
function exchange(requestLine, hostLines = 'Host: b\r\n') {
  return new Promise((resolve, reject) => {
    const socket = net.connect(new URL(app.url).port, '127.0.0.1');
    let received = '';
    socket.setTimeout(10000, () => socket.destroy(new Error(`no end of answer: ${JSON.stringify(received)}`)));
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => {
      received += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const [head, body] = received.split('\r\n\r\n');
      const status = Number(head.split(' ')[1]);
      const headers = Object.fromEntries(head.split('\r\n').slice(1).map((line) => {
        const [name, ...value] = line.split(':');
        return [name.toLowerCase(), value.join(':').trim()];
      }));
      resolve({ status, headers, body: JSON.parse(body) });
    });
    socket.write(`${requestLine}\r\n${hostLines}Connection: close\r\n\r\n`);
  });
}

// [request line, status, error code, Host lines]
const CASES = [
  ['GET /api/process HTTP/2.0', 505, 'http_version_not_supported'],
  ['GET /api/process HTTP/0.9', 505, 'http_version_not_supported'],
  ['PROPFIND /api/process HTTP/1.1', 501, 'not_implemented'],
  ['PROPFIND /no/such/route HTTP/1.1', 501, 'not_implemented'],
  ['CONNECT 127.0.0.1:9 HTTP/1.1', 501, 'not_implemented'],
  ['CONNECT /api/process HTTP/1.1', 501, 'not_implemented'],
  ['TRACE /api/process HTTP/1.1', 405, 'method_not_allowed'],
  ['GET /api/process HTTP/1.0', 200, undefined],
  // Host: one line, required in HTTP/1.1, of the bytes Go's net/http allows
  ['GET /api/process HTTP/1.1', 400, 'bad_request', ''],
  ['GET /api/process HTTP/1.1', 400, 'bad_request', 'Host: a\r\nHost: b\r\n'],
  ['GET /api/process HTTP/1.1', 400, 'bad_request', 'Host: a b\r\n'],
  ['GET /api/process HTTP/1.1', 400, 'bad_request', 'Host: user@host\r\n'],
  ['GET /api/process HTTP/1.1', 200, undefined, 'Host: [::1]:8082\r\n'],
  ['GET /api/process HTTP/1.1', 200, undefined, 'Host: \r\n'],
  ['GET /api/process HTTP/1.0', 200, undefined, ''],
  ['CONNECT 127.0.0.1:9 HTTP/1.1', 501, 'not_implemented', ''],
];

for (const [requestLine, status, code, hostLines] of CASES) {
  test(`${requestLine} ${JSON.stringify(hostLines ?? 'Host: b')} -> ${status} ${code ?? ''}`, async () => {
    const response = await exchange(requestLine, hostLines);
    assert.equal(response.status, status);
    assert.equal(response.body.error, code);
    assert.equal(response.body.service, 'service-b');
    assert.equal(response.body.trace_id, response.headers['x-trace-id']);
    if (!requestLine.startsWith('CONNECT')) {
      assert.match(response.body.otel_trace_id, /^[0-9a-f]{32}$/);
    }
    if (status >= 500) {
      assert.equal(response.headers.allow, undefined);
    }
  });
}

test('a refused CONNECT has its request line in the log, and the service goes on', async () => {
  const response = await exchange('CONNECT 127.0.0.1:9 HTTP/1.1');
  const line = app.logLines().find((entry) => entry.x_trace_id === response.body.trace_id);
  assert.equal(line?.message, 'request completed');
  assert.equal(line.status, 501);
  assert.equal(line.level, 'ERROR');
  assert.equal((await exchange('GET /health HTTP/1.1')).status, 200);
});

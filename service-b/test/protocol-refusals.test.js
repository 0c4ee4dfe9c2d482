'use strict';

// Requests Node's HTTP server refuses before the app sees them get the
// contract's JSON error and one log line (src/protocol-refusals.js), never
// Node's empty answer, and never a quote of the client's bytes.

require('../test-support/telemetry');
const { test } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { once } = require('node:events');
const { send } = require('../test-support/http');
const { appForFile } = require('../test-support/app');
const { assertValidLogLine } = require('../test-support/log-schema');
const { isValidXTraceId } = require('../src/middleware/x-trace-id');

const app = appForFile();

/** Writes `raw` (latin1 bytes) and resolves with everything received until the server closes. */
async function exchange(raw) {
  const socket = net.connect(new URL(app.url).port, '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk) => {
    received += chunk;
  });
  socket.end(Buffer.from(raw, 'latin1'));
  await once(socket, 'close');
  const [head, body] = received.split('\r\n\r\n');
  const [statusLine, ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(headerLines.map((line) => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
  }));
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

const request = (target, headerLines = '') => `GET ${target} HTTP/1.1\r\nHost: b\r\n${headerLines}\r\n`;

// [case, raw request, status, error code, Node's parser error]
const REFUSED = [
  ['raw bytes >= 0x80 in the path', request('/api/\xff\xfe'), 400, 'bad_request', 'HPE_INVALID_URL'],
  ['raw bytes in the query', request('/api/process?token=\xc1\xa5'), 400, 'bad_request', 'HPE_INVALID_URL'],
  ['a header name that is no token', request('/api/process', 'X\xffY: 1\r\n'), 400, 'bad_request',
    'HPE_INVALID_HEADER_TOKEN'],
  ['a TLS ClientHello on the plain port', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n', 400, 'bad_request',
    'HPE_INVALID_METHOD'],
  ['more header bytes than Node takes', request('/api/process', `X-Big: ${'b'.repeat(20000)}\r\n`), 431,
    'headers_too_large', 'HPE_HEADER_OVERFLOW'],
  // docs/contract.md, "Input rules": methods and versions llhttp does not serve
  ['a method llhttp does not know', 'FOO /api/process HTTP/1.1\r\nHost: b\r\n\r\n', 501, 'not_implemented',
    'HPE_INVALID_METHOD'],
  ['a known method with more letters', 'PATCHY /api/process HTTP/1.1\r\nHost: b\r\n\r\n', 501, 'not_implemented',
    'HPE_INVALID_METHOD'],
  ['HTTP/1.2', 'GET /api/process HTTP/1.2\r\nHost: b\r\n\r\n', 505, 'http_version_not_supported',
    'HPE_INVALID_VERSION'],
  ['a version that is no version', 'GET /api/process HTTP/1.10\r\nHost: b\r\n\r\n', 400, 'bad_request',
    'HPE_INVALID_VERSION'],
];

for (const [name, raw, status, code, parserError] of REFUSED) {
  test(`${name}: ${status} ${code} in JSON, one log line`, async () => {
    const before = app.rawLogLines.length;
    const answer = await exchange(raw);

    assert.equal(answer.status, status, JSON.stringify(answer));
    assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(answer.headers.connection, 'close');
    const body = JSON.parse(answer.body);
    assert.ok(isValidXTraceId(body.trace_id), body.trace_id);
    assert.deepEqual(body, { service: 'service-b', trace_id: body.trace_id, error: code, message: body.message });
    assert.equal(answer.headers['x-trace-id'], body.trace_id);
    assert.equal(Number(answer.headers['content-length']), Buffer.byteLength(answer.body));

    const lines = app.rawLogLines.slice(before).map(assertValidLogLine);
    assert.deepEqual(lines.map((line) => [line.level, line.message, line.status, line.error, line.x_trace_id]),
      [[status >= 500 ? 'ERROR' : 'WARN', 'request completed', status, parserError, body.trace_id]]);
    assert.deepEqual([lines[0].method, lines[0].route, lines[0].trace_id], ['', '', '']);
    for (const quoted of ['\xff', '\xc1', '\x01', 'token', 'bbbb']) {
      assert.ok(!answer.body.includes(quoted) && !app.rawLogLines.slice(before).join('').includes(quoted),
        `${JSON.stringify(quoted)} quoted`);
    }
    assert.equal((await send(`${app.url}/health`)).status, 200, 'still serving');
  });
}

test('an Expect other than 100-continue: 417 expectation_failed in JSON, one log line', async () => {
  const before = app.rawLogLines.length;
  const answer = await exchange(request('/api/process', 'Expect: teapot\r\nConnection: close\r\n'));

  assert.equal(answer.status, 417);
  const body = JSON.parse(answer.body);
  assert.deepEqual(body, { service: 'service-b', trace_id: answer.headers['x-trace-id'], error: 'expectation_failed',
    message: body.message });
  const lines = app.rawLogLines.slice(before).map(assertValidLogLine);
  assert.deepEqual(lines.map((line) => [line.message, line.method, line.route, line.status, line.x_trace_id]),
    [['request completed', 'GET', '/api/process', 417, body.trace_id]]);
});

test('a reset by the client is no refusal: nothing answered, nothing logged', async () => {
  const before = app.rawLogLines.length;
  const socket = net.connect(new URL(app.url).port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write('GET /api/process HTTP/1.1\r\nHo');
  socket.resetAndDestroy();
  await once(socket, 'close');
  assert.equal((await send(`${app.url}/health`)).status, 200);
  assert.deepEqual(app.rawLogLines.slice(before), []);
});

test('CONNECT, which Node keeps from the app, gets the JSON 501 and a log line, and the service goes on', async () => {
  const answer = await exchange('CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: b\r\n\r\n');
  const body = JSON.parse(answer.body);
  assert.deepEqual([answer.status, body.error], [501, 'not_implemented']);
  const line = app.logLines().find((entry) => entry.x_trace_id === body.trace_id);
  assert.deepEqual([line?.message, line?.status, line?.level], ['request completed', 501, 'ERROR']);
  assert.equal((await send(`${app.url}/health`)).status, 200);
});

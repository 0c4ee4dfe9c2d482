'use strict';

// The keep-alive policy (docs/contract.md, "Keep-alive connections"): a
// connection is closed after its last allowed answer, and the outbound client
// opens a new one when a server closes.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const { once } = require('node:events');
const { applyKeepAlivePolicy, IDLE_TIMEOUT_MS } = require('../src/keep-alive');
const { callJson } = require('../src/downstream');

// nginx's upstream keepalive_timeout (its default) and service-a's client.
const CALLERS_IDLE_TIMEOUT_MS = 60000;

async function startServer(maxRequestsPerConnection) {
  const server = http.createServer((_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end('{}');
  });
  applyKeepAlivePolicy(server, { maxRequestsPerConnection });
  let opened = 0;
  server.on('connection', () => {
    opened += 1;
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: server.address().port,
    opened: () => opened,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * One raw connection: exchange(request) resolves to the next whole answer
 * (head and Content-Length body); `ended` resolves when the server closes.
 */
async function rawConnection(port) {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  let waiting = null;
  const takeAnswer = () => {
    const headEnd = received.indexOf('\r\n\r\n');
    if (headEnd < 0) return;
    const head = received.slice(0, headEnd);
    const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (received.length < headEnd + 4 + length) return;
    received = received.slice(headEnd + 4 + length);
    const resolve = waiting;
    waiting = null;
    resolve(head);
  };
  socket.setEncoding('latin1');
  socket.on('data', (chunk) => {
    received += chunk;
    if (waiting) takeAnswer();
  });
  const ended = once(socket, 'end');
  return {
    exchange: (request) =>
      new Promise((resolve) => {
        waiting = resolve;
        socket.write(request);
      }),
    ended,
    destroy: () => socket.destroy(),
  };
}

const GET = 'GET /health HTTP/1.1\r\nHost: b\r\n\r\n';

test('the last allowed answer says Connection: close and the server closes the connection', { timeout: 10000 }, async (t) => {
  const limit = 3;
  const server = await startServer(limit);
  t.after(server.close);
  const connection = await rawConnection(server.port);
  t.after(connection.destroy);

  for (let n = 1; n <= limit; n += 1) {
    const head = await connection.exchange(GET);
    assert.match(head, /^HTTP\/1\.1 200 /, `answer ${n}`);
    assert.equal(/^connection: close$/im.test(head), n === limit, `answer ${n}: ${head}`);
  }
  // The server ends the connection by itself; the client sends nothing more.
  await connection.ended;
});

test('with no limit the connection stays open', async (t) => {
  const server = await startServer(0);
  t.after(server.close);
  const connection = await rawConnection(server.port);
  t.after(connection.destroy);

  for (let n = 1; n <= 20; n += 1) {
    const head = await connection.exchange(GET);
    assert.match(head, /^connection: keep-alive$/im, `answer ${n}`);
  }
});

test('fetch opens a new connection after a server closes one, and every call succeeds', async (t) => {
  const server = await startServer(2);
  t.after(server.close);
  for (let n = 1; n <= 5; n += 1) {
    const outcome = await callJson(`http://127.0.0.1:${server.port}/`, { hopCount: 0, timeoutMs: 10000 });
    assert.equal(outcome.ok, true, `call ${n}`);
  }
  assert.equal(server.opened(), 3);
});

test('idle connections outlive the callers\' pools', () => {
  assert.ok(IDLE_TIMEOUT_MS > CALLERS_IDLE_TIMEOUT_MS);
});

'use strict';

// The keep-alive policy (docs/contract.md, "Keep-alive connections"): a limit
// of 0 keeps the connection, and the outbound client opens a new connection
// when a server closes one.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const { once } = require('node:events');
const { applyKeepAlivePolicy } = require('../src/keep-alive');
const { callJson } = require('../src/downstream');

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
 * (head and Content-Length body).
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
  return {
    exchange: (request) =>
      new Promise((resolve) => {
        waiting = resolve;
        socket.write(request);
      }),
    destroy: () => socket.destroy(),
  };
}

const GET = 'GET /health HTTP/1.1\r\nHost: b\r\n\r\n';

// The default limit and the idle timeout: tests/e2e/test_55_keep_alive.py, on every service's own port.
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

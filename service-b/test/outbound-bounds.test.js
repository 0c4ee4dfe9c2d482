'use strict';

// docs/contract.md, "Outbound calls" and the URL rule of "Input rules",
// through POST /test (DOWNSTREAM_TIMEOUT_MS 500 here): one row per rule.

require('../test-support/telemetry');
const { test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { once } = require('node:events');
const { send } = require('../test-support/http');
const { appForFile } = require('../test-support/app');
const { MAX_ANSWER_BYTES } = require('../src/downstream');

const DEADLINE_MS = 500;
// How long a dripping answer goes on: far beyond the deadline, so a call
// that is not cut waits it out and fails the row.
const DRIP_FOR_MS = 5000;

/** Keeps the connection open, calling `tick` every 50 ms, until the client leaves or DRIP_FOR_MS passes. */
function hold(socket, tick = () => {}) {
  const timer = setInterval(tick, 50);
  const stop = setTimeout(() => socket.destroy(), DRIP_FOR_MS);
  socket.on('close', () => {
    clearInterval(timer);
    clearTimeout(stop);
  });
}

const ANSWERS = {
  '/redirect-302': (request, response) => response.writeHead(302, { location: '/landed' }).end(),
  '/redirect-307': (request, response) => response.writeHead(307, { location: '/landed' }).end(),
  '/exactly-1MiB': (request, response) => response.end('a'.repeat(MAX_ANSWER_BYTES)),
  '/1MiB-and-1': (request, response) => response.end('a'.repeat(MAX_ANSWER_BYTES + 1)),
  '/drip-body': (request, response) => {
    response.writeHead(200, { 'content-length': '1000' });
    hold(request.socket, () => response.write('a'));
  },
  '/stall-body': (request, response) => {
    response.writeHead(200, { 'content-length': '1000' });
    response.write('a');
    hold(request.socket);
  },
  // Written to the socket itself: node:http sends a header block at once.
  '/drip-headers': (request) => {
    request.socket.write('HTTP/1.1 200 OK\r\nX-Drip: ');
    hold(request.socket, () => request.socket.write('a'));
  },
};

/** A target that answers as a broken or hostile one might; records "path[ Authorization]". */
async function startHostileServer() {
  const received = [];
  const server = http.createServer((request, response) => {
    received.push(request.headers.authorization ? `${request.url} ${request.headers.authorization}` : request.url);
    request.resume();
    request.on('end', () => (ANSWERS[request.url] ?? ((_, res) => res.end('{}')))(request, response));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    host: `127.0.0.1:${server.address().port}`,
    received,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

const app = appForFile({ DOWNSTREAM_TIMEOUT_MS: String(DEADLINE_MS) });

// [case, url (JSON string content; {host} is the target's), POST /test's
// status, the failed call's logged outcome ([error, status]; null when the
// call succeeded or was never made), what the target received]
const CASES = [
  ['302 is not followed', 'http://{host}/redirect-302', 200, ['bad_status', 302], ['/redirect-302']],
  ['307 is not followed', 'http://{host}/redirect-307', 200, ['bad_status', 307], ['/redirect-307']],
  ['an answer of exactly 1 MiB is read', 'http://{host}/exactly-1MiB', 200, null, ['/exactly-1MiB']],
  ['an answer over 1 MiB is cut', 'http://{host}/1MiB-and-1', 200, ['invalid_response', 200], ['/1MiB-and-1']],
  ['a dripping body is cut at the deadline', 'http://{host}/drip-body', 200, ['timeout', 200], ['/drip-body']],
  ['a stalled body is cut at the deadline', 'http://{host}/stall-body', 200, ['timeout', 200], ['/stall-body']],
  ['dripping headers are cut at the deadline', 'http://{host}/drip-headers', 200, ['timeout', null], ['/drip-headers']],
  ['a password that is a lone surrogate', 'http://u:\\ud800@{host}/credentials', 400, null, []],
  ['a password that is a percent-encoded euro sign', 'http://u:%E2%82%AC@{host}/credentials', 400, null, []],
  ['a user name alone', 'http://user@{host}/credentials', 400, null, []],
  ['an empty user info is no credential', 'http://:@{host}/no-credentials', 200, null, ['/no-credentials']],
];

for (const [name, url, answer, outcome, received] of CASES) {
  test(`outbound call bounds: ${name}`, async () => {
    const target = await startHostileServer();
    try {
      const linesBefore = app.logLines().length;
      const started = Date.now();
      const response = await send(`${app.url}/test`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `[{"url": "${url.replace('{host}', target.host)}", "arguments": []}]`,
      });
      const elapsedMs = Date.now() - started;

      assert.equal(response.status, answer);
      if (answer === 400) {
        assert.equal(response.body.error, 'invalid_body');
      }
      // Generous for a busy machine, and far below DRIP_FOR_MS.
      assert.ok(elapsedMs < DEADLINE_MS + 1500, `the call took ${elapsedMs} ms, its deadline is ${DEADLINE_MS} ms`);
      assert.deepEqual(target.received, received);
      const failures = app
        .logLines()
        .slice(linesBefore)
        .filter((line) => line.message === 'conformance call failed')
        .map((line) => [line.error, line.downstream_status]);
      assert.deepEqual(failures, outcome === null ? [] : [outcome]);
    } finally {
      await target.close();
    }
  });
}

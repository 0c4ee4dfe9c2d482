'use strict';

// Graceful stop: drain in-flight requests, flush telemetry, exit 0 — and the
// whole process, started the way the native runner starts it, writes nothing
// but schema-valid JSON lines, even with no Collector to export to.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { once } = require('node:events');
const { prepareGracefulClose } = require('../src/shutdown');
const { onTelemetryShutdown, shutdownTelemetry } = require('../src/telemetry/lifecycle');
const { send, refusedUrl } = require('../test-support/http');
const { waitFor } = require('../test-support/wait');
const { assertValidLogLine } = require('../test-support/log-schema');
const { startServiceProcess } = require('../test-support/service-process');

const KEEP_ALIVE_TIMEOUT_MS = 120000;
// A busy machine may be slow; these bounds only tell "finished" from "waited
// for a timeout that is much longer".
const PROMPTLY_MS = 30000;

// A server whose requests stay open until the test lets them go.
async function serverWithHeldRequests() {
  const held = [];
  const server = http.createServer((_request, response) => {
    held.push(() => response.end('done'));
  });
  // Far longer than any test may take: "did not wait for the keep-alive
  // timeout" is then a question of finishing at all, not of speed.
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  const close = prepareGracefulClose(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { close, held, url: `http://127.0.0.1:${server.address().port}` };
}

// A keep-alive client, like nginx's upstream pool or another service.
function getKeepAlive(url, agent) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (response) => {
        response.resume();
        response.on('end', () => resolve(response));
      })
      .on('error', reject);
  });
}

test('closing lets an in-flight request on a keep-alive connection finish, then closes it', async () => {
  const { close, held, url } = await serverWithHeldRequests();
  const agent = new http.Agent({ keepAlive: true });
  const inFlight = getKeepAlive(url, agent);
  await waitFor(() => held.length === 1, { what: 'the request to arrive' });

  const closed = close({ drainLimitMs: 5000 });
  await assert.rejects(send(url), { code: 'ECONNREFUSED' }, 'no new connections');
  held[0]();
  const response = await inFlight;
  assert.equal(response.statusCode, 200);
  assert.equal(response.headers.connection, 'close');
  const startedAt = Date.now();
  assert.equal(await closed, true);
  assert.ok(Date.now() - startedAt < PROMPTLY_MS, 'did not wait for the keep-alive timeout');
  agent.destroy();
});

test('requests still running at the drain limit are cut', async () => {
  const { close, held, url } = await serverWithHeldRequests();
  const inFlight = send(url);
  await waitFor(() => held.length === 1, { what: 'the request to arrive' });
  assert.equal(await close({ drainLimitMs: 50 }), false);
  await assert.rejects(inFlight, { code: 'ECONNRESET' });
});

test('telemetry shutdown reports success, failure and a timeout without throwing', async () => {
  // The hooks are process-wide; this file registers them in order.
  onTelemetryShutdown(async () => {});
  assert.equal(await shutdownTelemetry({ timeoutMs: 1000 }), true);

  onTelemetryShutdown(async () => {
    throw new Error('export failed');
  });
  assert.equal(await shutdownTelemetry({ timeoutMs: 1000 }), false);

  // A hook that never settles: the deadline decides (the test would hang otherwise).
  onTelemetryShutdown(() => new Promise(() => {}));
  assert.equal(await shutdownTelemetry({ timeoutMs: 100 }), false);
});

test('the real process: serves without a Collector, stops on SIGTERM with exit 0, prints only JSON lines', async () => {
  const collector = await refusedUrl();
  const { child, exited, lines, listening: listeningLine } = startServiceProcess({
    OTEL_EXPORTER_OTLP_ENDPOINT: collector,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_EXPORTER_OTLP_TIMEOUT: '300',
    OTEL_BSP_SCHEDULE_DELAY: '50',
    DOWNSTREAM_TIMEOUT_MS: '2000',
    MAX_HOPS: '5',
    TZ: 'UTC',
  });

  try {
    const listening = await listeningLine();
    const url = `http://127.0.0.1:${listening.port}`;
    assert.equal((await send(`${url}/health`)).status, 200);
    assert.equal((await send(`${url}/api/process`)).status, 200);
    // The export fails (nothing listens) and says so in one JSON line.
    await waitFor(() => lines().some((line) => line.includes('"span export failing"')), {
      what: 'the export error line',
      timeoutMs: PROMPTLY_MS,
    });
  } finally {
    child.kill('SIGTERM');
  }

  const [code, signal] = await exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null });
  const parsed = lines().map(assertValidLogLine);
  assert.deepEqual(parsed.slice(-1).map((line) => line.message), ['stopped']);
  assert.ok(parsed.some((line) => line.message === 'request completed' && line.route === '/api/process'));
});

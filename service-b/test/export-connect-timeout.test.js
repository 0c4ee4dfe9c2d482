'use strict';

// A connect that is never answered (a Collector pod that has just gone away)
// is bounded by OTEL_EXPORTER_OTLP_TIMEOUT too: the exporter's own timeout
// starts only once the socket is connected, so it waited ~2 min for the
// kernel's SYN retries.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { once } = require('node:events');
const { spawn } = require('node:child_process');
const { setTimeout: sleep } = require('node:timers/promises');
const { ExportResultCode } = require('@opentelemetry/core');
const { TracerProvider } = require('@opentelemetry/sdk-trace');
const { otlpTraceExporter } = require('../src/telemetry/sdk');

const TIMEOUT_MS = 500;
// Well under the kernel's first SYN retries (1 s + 3 s) on the old code.
const BOUND_MS = 5000;

/**
 * A port whose connects hang: a listener (in a child whose event loop is
 * blocked, so it never accepts) with a full accept queue. Linux drops
 * further SYNs then; backlog 1 queues two connections.
 */
async function unansweredPort() {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const server = require('node:net').createServer();
       server.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
         process.stdout.write(server.address().port + '\\n');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
       });`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = Number(String((await once(child.stdout, 'data'))[0]));
  const fillers = [net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1')];
  await Promise.all(fillers.map((socket) => once(socket, 'connect')));
  const close = () => {
    fillers.forEach((socket) => socket.destroy());
    child.kill('SIGKILL');
  };
  return { url: `http://127.0.0.1:${port}/v1/traces`, close };
}

test('an export whose connect is never answered fails within OTEL_EXPORTER_OTLP_TIMEOUT', async () => {
  const collector = await unansweredPort();
  const saved = { ...process.env };
  Object.assign(process.env, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: collector.url, OTEL_EXPORTER_OTLP_TIMEOUT: `${TIMEOUT_MS}` });
  const exporter = otlpTraceExporter();
  process.env = saved;
  const span = new TracerProvider().getTracer('test').startSpan('unanswered');
  span.end();
  try {
    const startedAt = Date.now();
    const answered = new Promise((resolve) => exporter.export([span], resolve));
    const result = await Promise.race([answered, sleep(BOUND_MS, undefined, { ref: false })]);
    const elapsedMs = Date.now() - startedAt;
    assert.ok(result, `no answer within ${BOUND_MS} ms`);
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.match(result.error.message, /timed out/);
    assert.ok(elapsedMs < TIMEOUT_MS + 1000, `answered after ${elapsedMs} ms`);
  } finally {
    collector.close();
    await exporter.shutdown();
  }
});

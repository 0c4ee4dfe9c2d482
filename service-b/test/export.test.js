'use strict';

// Span export through a Collector outage: kept, retried, and reported in
// three lines (failing, still failing every 30 s, recovered).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { once } = require('node:events');
const { ExportResultCode } = require('@opentelemetry/core');
const { TracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { OTLPExporterError } = require('@opentelemetry/otlp-exporter-base');
const { createLogger } = require('../src/logger');
const { startServiceProcess } = require('../test-support/service-process');
const {
  ExportHealth,
  RetryingSpanExporter,
  MSG_FAILING,
  MSG_STILL_FAILING,
  MSG_RECOVERED,
  MSG_BATCH_DROPPED,
} = require('../src/telemetry/export');
const { tracesExported } = require('../src/telemetry/sdk');
const { send, startFakeServer, refusedUrl } = require('../test-support/http');
const { startOtlpReceiver } = require('../test-support/otlp-receiver');
const { waitFor } = require('../test-support/wait');
const { assertValidLogLine } = require('../test-support/log-schema');

const HEALTH_FIELDS = ['error', 'failed_attempts', 'spans_dropped', 'failing_for_ms'];

function memoryLogger() {
  const lines = [];
  const logger = createLogger({ service: 'service-b', destination: { write: (line) => lines.push(line) } });
  return { logger, records: () => lines.map(assertValidLogLine) };
}

function scriptedExporter(failures) {
  const state = { calls: 0, exported: 0 };
  state.export = (spans, done) => {
    state.calls += 1;
    if (state.calls <= failures) {
      const error = new Error('connect ECONNREFUSED 127.0.0.1:4318');
      done({ code: ExportResultCode.FAILED, error });
      return;
    }
    state.exported += spans.length;
    done({ code: ExportResultCode.SUCCESS });
  };
  state.shutdown = () => Promise.resolve();
  return state;
}

const exportOnce = (exporter, spans) => new Promise((resolve) => exporter.export(spans, resolve));

/** An exporter that answers with `results` in turn, then succeeds. */
function answeringExporter(...results) {
  const state = { calls: 0 };
  state.export = (spans, done) => {
    state.calls += 1;
    done(results[state.calls - 1] ?? { code: ExportResultCode.SUCCESS });
  };
  state.shutdown = () => Promise.resolve();
  return state;
}

// A retry would wait a minute: these tests end long before if none is made.
const NEVER_RETRY_IN_TIME = { exportTimeoutMs: 300_000, attemptTimeoutMs: 1000, initialBackoffMs: 60_000 };

const outages = [
  { name: 'healthy', outageMs: 0, everyMs: 1000, expected: [] },
  { name: 'short blip', outageMs: 2000, everyMs: 500, expected: [MSG_FAILING, MSG_RECOVERED] },
  { name: 'just under a period', outageMs: 29_000, everyMs: 1000, expected: [MSG_FAILING, MSG_RECOVERED] },
  {
    name: '70 s at 5 attempts/s',
    outageMs: 70_000,
    everyMs: 200,
    expected: [MSG_FAILING, MSG_STILL_FAILING, MSG_STILL_FAILING, MSG_RECOVERED],
  },
];

for (const { name, outageMs, everyMs, expected } of outages) {
  test(`export health lines: ${name}`, () => {
    const { logger, records } = memoryLogger();
    let clock = 1_000_000;
    const health = new ExportHealth(logger, { now: () => clock });
    let attempts = 0;
    for (; attempts * everyMs < outageMs; attempts += 1) {
      health.failed(new Error('connection refused'));
      clock += everyMs;
    }
    health.succeeded();
    const lines = records();
    assert.deepEqual(lines.map((line) => line.message), expected);
    for (const line of lines) {
      assert.deepEqual(HEALTH_FIELDS.filter((field) => !(field in line)), []);
    }
    if (lines.length > 0) {
      const last = lines.at(-1);
      assert.deepEqual([last.failed_attempts, last.failing_for_ms, last.level], [attempts, outageMs, 'INFO']);
      assert.equal(lines[0].level, 'WARN');
    }
  });
}

test('a failed batch is kept until delivered', async () => {
  const { logger, records } = memoryLogger();
  const inner = scriptedExporter(3);
  const exporter = new RetryingSpanExporter(inner, new ExportHealth(logger), {
    exportTimeoutMs: 30_000,
    attemptTimeoutMs: 1000,
    initialBackoffMs: 1,
    maxBackoffMs: 2,
  });
  const result = await exportOnce(exporter, new Array(7).fill({}));
  assert.equal(result.code, ExportResultCode.SUCCESS);
  assert.deepEqual([inner.calls, inner.exported], [4, 7]);
  const lines = records();
  assert.deepEqual(lines.map((line) => line.message), [MSG_FAILING, MSG_RECOVERED]);
  assert.deepEqual([lines[1].failed_attempts, lines[1].spans_dropped], [3, 0]);
  assert.match(lines[0].error, /ECONNREFUSED/);
});

test('a batch is given up before the processor would abandon it', async () => {
  const { logger, records } = memoryLogger();
  const health = new ExportHealth(logger);
  // Retries stop half-way (export timeout minus one attempt's timeout), which
  // leaves a busy machine's timer delays 500 ms of room.
  const exporter = new RetryingSpanExporter(scriptedExporter(Infinity), health, {
    exportTimeoutMs: 1000,
    attemptTimeoutMs: 500,
    initialBackoffMs: 1,
    maxBackoffMs: 20,
  });
  const startedAt = Date.now();
  const result = await exportOnce(exporter, new Array(5).fill({}));
  assert.equal(result.code, ExportResultCode.FAILED);
  assert.ok(Date.now() - startedAt < 1000, 'answered within the processor export timeout');
  health.succeeded();
  assert.equal(records().at(-1).spans_dropped, 5);
});

test('a batch the Collector answers 400 is dropped at once, in one line, and the next batch goes through', async () => {
  const { logger, records } = memoryLogger();
  const rejected = new OTLPExporterError('Bad Request', 400, 'string field contains invalid UTF-8');
  const inner = answeringExporter({ code: ExportResultCode.FAILED, error: rejected });
  const exporter = new RetryingSpanExporter(inner, new ExportHealth(logger), NEVER_RETRY_IN_TIME);

  // Settled, and reported once by the exporter: SUCCESS keeps the processor
  // from logging the same failure a second time.
  assert.equal((await exportOnce(exporter, new Array(4).fill({}))).code, ExportResultCode.SUCCESS);
  assert.equal(inner.calls, 1);
  assert.equal((await exportOnce(exporter, [{}])).code, ExportResultCode.SUCCESS);
  assert.equal(inner.calls, 2);
  const lines = records();
  assert.deepEqual(
    lines.map((line) => [line.level, line.message, line.spans_dropped, line.spans_dropped_total, line.error]),
    [['ERROR', MSG_BATCH_DROPPED, 4, 4, 'Bad Request (400)']],
  );
});

test('a batch the exporter cannot serialize is dropped at once', async () => {
  const { logger, records } = memoryLogger();
  const inner = answeringExporter();
  inner.export = () => {
    inner.calls += 1;
    throw new TypeError('cannot serialize');
  };
  const exporter = new RetryingSpanExporter(inner, new ExportHealth(logger), NEVER_RETRY_IN_TIME);
  assert.equal((await exportOnce(exporter, [{}])).code, ExportResultCode.SUCCESS);
  assert.equal(inner.calls, 1);
  assert.deepEqual(records().map((line) => [line.message, line.error]), [[MSG_BATCH_DROPPED, 'cannot serialize']]);
});

test('a retryable answer the exporter gave up on is retried', async () => {
  const { logger, records } = memoryLogger();
  const spent = new OTLPExporterError('Export failed with retryable status');
  const inner = answeringExporter({ code: ExportResultCode.FAILED, error: spent });
  const exporter = new RetryingSpanExporter(inner, new ExportHealth(logger), {
    exportTimeoutMs: 30_000,
    attemptTimeoutMs: 1000,
    initialBackoffMs: 1,
  });
  assert.equal((await exportOnce(exporter, [{}])).code, ExportResultCode.SUCCESS);
  assert.equal(inner.calls, 2);
  assert.deepEqual(records().map((line) => line.message), [MSG_FAILING, MSG_RECOVERED]);
});

// The OTLP specification ("Failures") retries 429, 502, 503 and 504 and no
// other answer. The real exporter against a receiver that answers one status,
// then 200; all statuses at once, since the exporter's own retry waits ~1 s.
test('the real exporter: only 429, 502, 503 and 504 are sent again', async () => {
  const provider = new TracerProvider();
  const answers = [
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [413, false],
    [500, false],
    [501, false],
    [429, true],
    [502, true],
    [503, true],
    [504, true],
  ];
  await Promise.all(
    answers.map(async ([status, retried]) => {
      const receiver = await startOtlpReceiver([status]);
      const { logger, records } = memoryLogger();
      const exporter = new RetryingSpanExporter(
        new OTLPTraceExporter({ url: receiver.url, timeoutMillis: 10_000 }),
        new ExportHealth(logger),
        NEVER_RETRY_IN_TIME,
      );
      const span = provider.getTracer('test').startSpan('answered');
      span.end();
      try {
        const result = await exportOnce(exporter, [span]);
        assert.equal(result.code, ExportResultCode.SUCCESS, `${status}`);
        assert.equal(receiver.bodies.length, retried ? 2 : 1, `${status}: requests`);
        const dropped = records().filter((line) => line.message === MSG_BATCH_DROPPED);
        assert.equal(dropped.length, retried ? 0 : 1, `${status}: drop lines`);
        if (!retried) {
          assert.match(dropped[0].error, new RegExp(`\\(${status}\\)`));
        }
      } finally {
        await exporter.shutdown();
        await receiver.close();
      }
    }),
  );
});

test('shutdown ends the wait', async () => {
  const { logger } = memoryLogger();
  const exporter = new RetryingSpanExporter(scriptedExporter(Infinity), new ExportHealth(logger), {
    exportTimeoutMs: 600_000,
    initialBackoffMs: 60_000,
  });
  const pending = exportOnce(exporter, [{}]);
  await exporter.shutdown();
  assert.equal((await pending).code, ExportResultCode.FAILED);
});

test('spans survive a refused connection (real processor, exporter and port)', async () => {
  const collector = await refusedUrl();
  const { logger, records } = memoryLogger();
  const exporter = new RetryingSpanExporter(
    new OTLPTraceExporter({ url: `${collector}/v1/traces`, timeoutMillis: 1000 }),
    new ExportHealth(logger),
    { exportTimeoutMs: 60_000, attemptTimeoutMs: 1000, initialBackoffMs: 50, maxBackoffMs: 200 },
  );
  const provider = new TracerProvider({
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 10, exportTimeoutMillis: 60_000 })],
  });
  const sent = 50;
  for (let i = 0; i < sent; i += 1) {
    provider.getTracer('test').startSpan(`kept-span-${String(i).padStart(3, '0')}`).end();
  }
  await waitFor(() => records().length > 0, { timeoutMs: 20_000, what: 'a refused export attempt' });

  // Names are stored as plain bytes in the protobuf body.
  const seen = new Set();
  const receiver = http.createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      for (const name of Buffer.concat(chunks).toString('latin1').match(/kept-span-\d{3}/g) ?? []) {
        seen.add(name);
      }
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  receiver.listen(Number(new URL(collector).port), '127.0.0.1');
  await once(receiver, 'listening');
  try {
    await waitFor(() => seen.size === sent, { timeoutMs: 30_000, what: 'every span at the receiver' });
    await waitFor(() => records().at(-1).message === MSG_RECOVERED, { timeoutMs: 10_000, what: 'the recovery line' });
  } finally {
    await provider.shutdown();
    receiver.closeAllConnections();
    receiver.close();
  }
  assert.deepEqual(records().map((line) => line.message), [MSG_FAILING, MSG_RECOVERED]);
});

const switches = [
  { env: {}, exported: true },
  { env: { OTEL_TRACES_EXPORTER: 'otlp' }, exported: true },
  { env: { OTEL_TRACES_EXPORTER: 'none' }, exported: false },
  { env: { OTEL_TRACES_EXPORTER: 'zipkin' }, exported: true, warns: true },
  { env: { OTEL_SDK_DISABLED: 'true' }, exported: false },
  { env: { OTEL_SDK_DISABLED: 'false', OTEL_TRACES_EXPORTER: 'none' }, exported: false },
  { env: { OTEL_SDK_DISABLED: 'false' }, exported: true },
];

for (const { env, exported, warns = false } of switches) {
  test(`tracing switches: ${JSON.stringify(env)}`, () => {
    const saved = { ...process.env };
    delete process.env.OTEL_TRACES_EXPORTER;
    delete process.env.OTEL_SDK_DISABLED;
    Object.assign(process.env, env);
    try {
      const warnings = [];
      assert.equal(tracesExported((message) => warnings.push(message)), exported);
      assert.equal(warnings.length > 0, warns);
    } finally {
      process.env = saved;
    }
  });
}

// The real process with either switch: nothing reaches the Collector, and
// the caller's trace context still reaches the next service.
for (const env of [{ OTEL_SDK_DISABLED: 'true' }, { OTEL_TRACES_EXPORTER: 'none' }]) {
  test(`the real process with ${JSON.stringify(env)} propagates and exports nothing`, async () => {
    const collector = await startFakeServer();
    const downstream = await startFakeServer();
    const { child, exited, listening: listeningLine } = startServiceProcess({
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_BSP_SCHEDULE_DELAY: '10',
      CONFORMANCE_ENDPOINT: 'on',
      ...env,
    });
    try {
      const listening = await listeningLine();
      const traceId = '0af7651916cd43dd8448eb211c80319c';
      const answer = await send(`http://127.0.0.1:${listening.port}/test`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-b7ad6b7169203331-01` },
        body: JSON.stringify([{ url: downstream.url, arguments: [] }]),
      });
      assert.equal(answer.status, 200);
      const [call] = downstream.received;
      assert.equal(call.headers.traceparent.length, 1);
      assert.equal(call.headers.traceparent[0].split('-')[1], traceId);
    } finally {
      child.kill('SIGTERM');
    }
    await exited;
    assert.deepEqual(collector.received, [], 'nothing was exported');
    await Promise.all([collector.close(), downstream.close()]);
  });
}

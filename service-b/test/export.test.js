'use strict';

// Span export through a Collector outage: kept, retried, and reported in
// three lines (failing, still failing every 30 s, recovered).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { ExportResultCode } = require('@opentelemetry/core');
const { TracerProvider } = require('@opentelemetry/sdk-trace');
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
const { send, startFakeServer } = require('../test-support/http');
const { startOtlpReceiver } = require('../test-support/otlp-receiver');
const { assertValidLogLine } = require('../test-support/log-schema');

const HEALTH_FIELDS = ['error', 'failed_attempts', 'spans_dropped', 'failing_for_ms'];

function memoryLogger() {
  const lines = [];
  const logger = createLogger({ service: 'service-b', destination: { write: (line) => lines.push(line) } });
  return { logger, records: () => lines.map(assertValidLogLine) };
}

const DELIVERED = { code: ExportResultCode.SUCCESS };
const REFUSED = { code: ExportResultCode.FAILED, error: new Error('connect ECONNREFUSED 127.0.0.1:4318') };

/** An exporter that answers with `results` in turn, then `then`; counts calls and spans delivered. */
function answeringExporter(results, then = DELIVERED) {
  const state = { calls: 0, exported: 0 };
  state.export = (spans, done) => {
    state.calls += 1;
    const result = results[state.calls - 1] ?? then;
    state.exported += result === DELIVERED ? spans.length : 0;
    done(result);
  };
  state.shutdown = () => Promise.resolve();
  return state;
}

/** Refuses the connection `failures` times (Infinity: always), then delivers. */
const scriptedExporter = (failures) =>
  Number.isFinite(failures) ? answeringExporter(new Array(failures).fill(REFUSED)) : answeringExporter([], REFUSED);

const exportOnce = (exporter, spans) => new Promise((resolve) => exporter.export(spans, resolve));

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

// A refused batch is sent again until delivered, or given up (and counted)
// before the processor would abandon it: retries stop half-way (export
// timeout minus one attempt's timeout), which leaves a busy machine's timer
// delays 500 ms of room.
const holds = [
  { name: 'kept until delivered', failures: 3, exportTimeoutMs: 30_000, code: ExportResultCode.SUCCESS, dropped: 0 },
  { name: 'given up in time', failures: Infinity, exportTimeoutMs: 1000, code: ExportResultCode.FAILED, dropped: 5 },
];

for (const { name, failures, exportTimeoutMs, code, dropped } of holds) {
  test(`a refused batch is ${name}`, async () => {
    const { logger, records } = memoryLogger();
    const health = new ExportHealth(logger);
    const inner = scriptedExporter(failures);
    const exporter = new RetryingSpanExporter(inner, health, {
      exportTimeoutMs,
      attemptTimeoutMs: 500,
      initialBackoffMs: 1,
      maxBackoffMs: 20,
    });
    const startedAt = Date.now();
    const result = await exportOnce(exporter, new Array(5).fill({}));
    assert.ok(Date.now() - startedAt < exportTimeoutMs, 'answered within the processor export timeout');
    assert.equal(result.code, code);
    assert.equal(inner.exported, 5 - dropped);
    health.succeeded();
    const lines = records();
    assert.deepEqual(lines.map((line) => line.message), [MSG_FAILING, MSG_RECOVERED]);
    assert.match(lines[0].error, /ECONNREFUSED/);
    assert.deepEqual([lines[1].failed_attempts, lines[1].spans_dropped], [inner.calls - (dropped ? 0 : 1), dropped]);
  });
}

test('a batch the exporter cannot serialize is dropped at once', async () => {
  const { logger, records } = memoryLogger();
  const inner = answeringExporter([]);
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
  const inner = answeringExporter([{ code: ExportResultCode.FAILED, error: spent }]);
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
        // Settled either way: SUCCESS keeps the processor from logging a
        // dropped batch a second time. The next batch goes through.
        assert.equal((await exportOnce(exporter, [span])).code, ExportResultCode.SUCCESS, `${status}`);
        assert.equal(receiver.bodies.length, retried ? 2 : 1, `${status}: requests`);
        assert.equal((await exportOnce(exporter, [span])).code, ExportResultCode.SUCCESS, `${status}: next batch`);
        assert.equal(receiver.bodies.length, retried ? 3 : 2, `${status}: the next batch sent`);
        const dropped = records().filter((line) => line.message === MSG_BATCH_DROPPED);
        assert.deepEqual(
          dropped.map((line) => [line.level, line.spans_dropped, line.spans_dropped_total]),
          retried ? [] : [['ERROR', 1, 1]],
          `${status}: drop lines`,
        );
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

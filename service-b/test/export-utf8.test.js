'use strict';

// What a request controls reaches the Collector as valid UTF-8 (issue 17).
// A JS string cannot hold bytes that are not UTF-8: raw header bytes arrive
// as latin1 characters, a percent-escape in a path stays as sent. The one
// ill-formed text it can hold is a lone surrogate (JSON "\ud800", a string
// cut between the halves of a pair), and the exporter writes that as U+FFFD.
// These tests hold the real exporter to both.

// First: the instrumentations must hook http and express before the app loads.
const { waitForTrace } = require('../test-support/telemetry');

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { ExportResultCode } = require('@opentelemetry/core');
const { TracerProvider } = require('@opentelemetry/sdk-trace');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { SpanKind, SpanStatusCode } = require('@opentelemetry/api');
const { createLogger } = require('../src/logger');
const { ExportHealth, RetryingSpanExporter } = require('../src/telemetry/export');
const { startApp, memoryDestination } = require('../test-support/app');
const { send } = require('../test-support/http');
const { startOtlpReceiver } = require('../test-support/otlp-receiver');

const exportOnce = (exporter, spans) => new Promise((resolve) => exporter.export(spans, resolve));

/** The production export chain, sending to `receiver`. */
function productionExporter(receiver) {
  const destination = memoryDestination();
  const logger = createLogger({ service: 'service-b', destination });
  return {
    exporter: new RetryingSpanExporter(new OTLPTraceExporter({ url: receiver.url }), new ExportHealth(logger)),
    logLines: destination.lines,
  };
}

function spanStrings(span) {
  const values = (attributes) => Object.entries(attributes ?? {}).flat(2).filter((v) => typeof v === 'string');
  return [
    span.name,
    span.status.message ?? '',
    ...values(span.attributes),
    ...span.events.flatMap((event) => [event.name, ...values(event.attributes)]),
  ];
}

test('the hostile requests of issue 17 reach the receiver as valid UTF-8', async () => {
  const app = await startApp();
  const receiver = await startOtlpReceiver();
  const traceIds = ['1', '2', '3'].map((last) => `0af7651916cd43dd8448eb211c80319${last}`);
  const requests = [
    { path: '/service-b/t%c1%a5st', headers: {} },
    { path: '/api/process', headers: { 'user-agent': 'bad\xff\xfe' } }, // written as the bytes ff fe
    { path: '/api/%ff%fe', headers: {} },
  ];
  try {
    const spans = [];
    for (const [i, { path, headers }] of requests.entries()) {
      const traceparent = `00-${traceIds[i]}-b7ad6b7169203331-01`;
      await send(`${app.url}${path}`, { headers: { ...headers, traceparent } });
      spans.push(...(await waitForTrace(traceIds[i], (found) => found.some((span) => span.kind === SpanKind.SERVER))));
    }
    const strings = spans.flatMap(spanStrings);
    assert.deepEqual(strings.filter((text) => !text.isWellFormed()), []);
    assert.ok(strings.includes('bad\xff\xfe'), 'the User-Agent bytes are latin1 characters');

    const { exporter, logLines } = productionExporter(receiver);
    assert.equal((await exportOnce(exporter, spans)).code, ExportResultCode.SUCCESS);
    const [body] = receiver.bodies;
    assert.ok(body.includes(Buffer.from('bad\u00ff\u00fe', 'utf8')), 'the User-Agent as UTF-8');
    for (const path of ['/service-b/t%c1%a5st', '/api/%ff%fe']) {
      assert.ok(body.includes(Buffer.from(path)), `${path} as sent`);
    }
    assert.deepEqual(logLines, []);
    for (const line of app.rawLogLines) {
      assert.ok(line.isWellFormed(), line);
      JSON.parse(line);
    }
  } finally {
    await receiver.close();
    await app.close();
  }
});

test('a lone surrogate anywhere in a span is exported as U+FFFD', async () => {
  const receiver = await startOtlpReceiver();
  const span = new TracerProvider().getTracer('test').startSpan('name-\ud800-end', {
    attributes: { 'app.text': 'attr-\udc00-end', 'app.texts': ['array-\udfff-end'] },
  });
  span.addEvent('event-\ud83d-end', { 'app.event.text': 'event-attr-\udbff-end' });
  span.setStatus({ code: SpanStatusCode.ERROR, message: 'status-\ud800-end' });
  span.end();
  try {
    const { exporter, logLines } = productionExporter(receiver);
    assert.equal((await exportOnce(exporter, [span])).code, ExportResultCode.SUCCESS);
    const [body] = receiver.bodies;
    for (const text of ['name', 'attr', 'array', 'event', 'event-attr', 'status']) {
      assert.ok(body.includes(Buffer.from(`${text}-\ufffd-end`, 'utf8')), `${text} with U+FFFD`);
    }
    assert.deepEqual(logLines, []);
  } finally {
    await receiver.close();
  }
});

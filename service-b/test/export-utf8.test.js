'use strict';

// What a request controls reaches the Collector as valid UTF-8 (issue 17).
// A JS string cannot hold bytes that are not UTF-8: raw header bytes arrive
// as latin1 characters, a percent-escape in a path stays as sent. The one
// ill-formed text it can hold is a lone surrogate (JSON "\ud800", a string
// cut between the halves of a pair), and the exporter writes that as U+FFFD.
// tests/e2e/test_62_hostile_bytes.py holds all three services to the latin1
// headers; this file holds the real exporter to the surrogate.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { ExportResultCode } = require('@opentelemetry/core');
const { TracerProvider } = require('@opentelemetry/sdk-trace');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { SpanStatusCode } = require('@opentelemetry/api');
const { createLogger } = require('../src/logger');
const { ExportHealth, RetryingSpanExporter } = require('../src/telemetry/export');
const { memoryDestination } = require('../test-support/app');
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

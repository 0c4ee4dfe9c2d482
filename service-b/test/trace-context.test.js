'use strict';

// W3C Trace Context through the real HTTP stack. The contract's rows (which
// parent, which flags, duplicates and their report) run against every service
// in tests/e2e/test_45_w3c_rules.py and test_30_duplicate_traceparent.py; this
// checks what they cannot see: traceresponse names the server span itself.

// The sampler every run mode sets (docs/contract.md, "Sampling decision"),
// read when test-support/telemetry starts the SDK.
process.env.OTEL_TRACES_SAMPLER = 'always_on';
const { waitForTrace } = require('../test-support/telemetry');
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { SpanKind } = require('@opentelemetry/api');
const { send } = require('../test-support/http');
const { startApp } = require('../test-support/app');

const TRACE_A = '0af7651916cd43dd8448eb211c80319c';
const PARENT_A = `00-${TRACE_A}-b7ad6b7169203331-01`;

let app;

before(async () => {
  app = await startApp();
});

after(async () => {
  await app.close();
});

test('traceresponse names the server span of a continued trace', async () => {
  const response = await send(`${app.url}/api/process`, { headers: { traceparent: PARENT_A } });
  const [, traceId, spanId] = response.headers.traceresponse.split('-');
  const spans = await waitForTrace(traceId, (found) => found.some((span) => span.spanContext().spanId === spanId));
  const server = spans.find((span) => span.spanContext().spanId === spanId);
  assert.equal(server.kind, SpanKind.SERVER);
  assert.equal(response.headers.traceresponse, `00-${TRACE_A}-${server.spanContext().spanId}-01`);
});

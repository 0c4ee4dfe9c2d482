'use strict';

// W3C Trace Context through the real HTTP stack: what the server span's
// parent is for each shape of incoming traceparent/tracestate headers, and
// how a rejection is reported.

// The sampler every run mode sets (docs/contract.md, "Sampling decision"),
// read when test-support/telemetry starts the SDK.
process.env.OTEL_TRACES_SAMPLER = 'always_on';
const { waitForTrace } = require('../test-support/telemetry');
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { SpanKind } = require('@opentelemetry/api');
const { send, startFakeServer } = require('../test-support/http');
const { startApp } = require('../test-support/app');
const { MAX_REPORTED_VALUES, MAX_REPORTED_LENGTH } = require('../src/middleware/traceparent-guard');

const TRACE_A = '0af7651916cd43dd8448eb211c80319c';
const TRACE_B = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_A = 'b7ad6b7169203331';
const PARENT_A = `00-${TRACE_A}-${SPAN_A}-01`;
const PARENT_B = `00-${TRACE_B}-00f067aa0ba902b7-01`;

let app;
let serviceC;

before(async () => {
  serviceC = await startFakeServer(() => ({ status: 200, body: { service: 'service-c' } }));
  app = await startApp({ SERVICE_C_URL: serviceC.url });
});

after(async () => {
  await app.close();
  await serviceC.close();
});

async function serverSpanOf(response) {
  const [, traceId, spanId] = response.headers.traceresponse.split('-');
  const spans = await waitForTrace(traceId, (found) => found.some((span) => span.spanContext().spanId === spanId));
  return spans.find((span) => span.spanContext().spanId === spanId);
}

function rejectionLines(traceId) {
  return app.logLines().filter((line) => line.message === 'rejected conflicting traceparent headers' && line.trace_id === traceId);
}

// [case, traceparent header (array = separate lines), parent kept?, rejected values]
const CASES = [
  ['a single traceparent', PARENT_A, true, []],
  ['identical duplicate lines', [PARENT_A, PARENT_A], true, []],
  ['identical duplicates in one comma-joined line', `${PARENT_A},${PARENT_A}`, true, []],
  ['conflicting lines', [PARENT_A, PARENT_B], false, [PARENT_A, PARENT_B]],
  ['conflicting values in one comma-joined line', `${PARENT_A}, ${PARENT_B}`, false, [PARENT_A, PARENT_B]],
  ['a malformed traceparent', 'not-a-traceparent', false, []],
];

for (const [name, traceparent, kept, rejected] of CASES) {
  test(`${name}: ${kept ? 'the parent is kept' : 'a new trace starts'}`, async () => {
    const response = await send(`${app.url}/api/process`, { headers: { traceparent } });
    assert.equal(response.status, 200);
    const server = await serverSpanOf(response);
    const { traceId } = server.spanContext();
    if (kept) {
      assert.equal(traceId, TRACE_A);
      assert.equal(server.parentSpanContext.spanId, SPAN_A);
    } else {
      assert.ok(![TRACE_A, TRACE_B].includes(traceId));
      assert.equal(server.parentSpanContext, undefined);
    }

    const events = server.events.filter((event) => event.name === 'app.traceparent.rejected');
    assert.deepEqual(events.map((event) => event.attributes['app.traceparent.value']), rejected);

    const warnings = rejectionLines(traceId);
    assert.equal(warnings.length, rejected.length > 0 ? 1 : 0);
    for (const line of warnings) {
      assert.equal(line.level, 'WARN');
      assert.equal(line.header, 'traceparent');
    }
  });
}

test('a flood of rejected values is bounded on the span', async () => {
  const values = Array.from({ length: 25 }, (_, index) => `00-${TRACE_A}-${SPAN_A}-0${index % 2}${'x'.repeat(400)}${index}`);
  const response = await send(`${app.url}/api/process`, { headers: { traceparent: values } });
  assert.equal(response.status, 200);
  const server = await serverSpanOf(response);
  const events = server.events.filter((event) => event.name === 'app.traceparent.rejected');
  assert.equal(events.length, MAX_REPORTED_VALUES);
  for (const event of events) {
    assert.ok(event.attributes['app.traceparent.value'].length <= MAX_REPORTED_LENGTH);
  }
  assert.equal(server.attributes['app.traceparent.rejected_count'], 25);
  const [line] = rejectionLines(server.spanContext().traceId);
  assert.equal(line.rejected_count, 25);
  assert.ok(!JSON.stringify(line).includes(TRACE_A), 'no rejected value in the log line');
});

test('conflicting values: count on the span and in the log line, no values logged', async () => {
  const response = await send(`${app.url}/api/process`, { headers: { traceparent: [PARENT_A, PARENT_B, PARENT_A] } });
  const server = await serverSpanOf(response);
  assert.equal(server.attributes['app.traceparent.rejected_count'], 2);
  const [line] = rejectionLines(server.spanContext().traceId);
  assert.deepEqual([line.header, line.rejected_count], ['traceparent', 2]);
  assert.ok(![TRACE_A, TRACE_B].some((id) => JSON.stringify(line).includes(id)));
});

// [incoming flags, flags of the outgoing call and of traceresponse]: every
// request is recorded, so both say sampled; the random flag goes on.
const FLAGS = [
  ['00', '01'],
  ['01', '01'],
  ['02', '03'],
  ['03', '03'],
];

for (const [incoming, outgoing] of FLAGS) {
  test(`trace flags ${incoming}: the outgoing call and traceresponse carry ${outgoing}`, async () => {
    const response = await send(`${app.url}/api/demo/circular-b-to-c`, {
      headers: { traceparent: `00-${TRACE_A}-${SPAN_A}-${incoming}` },
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.traceresponse, new RegExp(`^00-${TRACE_A}-[0-9a-f]{16}-${outgoing}$`));
    const call = serviceC.received.find((received) => received.headers['x-trace-id'][0] === response.headers['x-trace-id']);
    assert.match(call.headers.traceparent[0], new RegExp(`^00-${TRACE_A}-[0-9a-f]{16}-${outgoing}$`));
  });
}

test('an invalid tracestate is dropped, the trace continued', async () => {
  const response = await send(`${app.url}/api/demo/circular-b-to-c`, {
    headers: { traceparent: PARENT_A, tracestate: ['a=1', `${'z'.repeat(257)}=1`] },
  });
  assert.equal(response.status, 200);
  const call = serviceC.received.find((received) => received.headers['x-trace-id'][0] === response.headers['x-trace-id']);
  assert.match(call.headers.traceparent[0], new RegExp(`^00-${TRACE_A}-`));
  assert.equal(call.headers.tracestate, undefined);
});

test('tracestate lines are combined in order, empty ones ignored, and propagated', async () => {
  const response = await send(`${app.url}/api/demo/circular-b-to-c`, {
    headers: { traceparent: PARENT_A, tracestate: ['a=1', '', 'b=2'] },
  });
  assert.equal(response.status, 200);
  const server = await serverSpanOf(response);
  assert.equal(server.parentSpanContext.traceState.serialize(), 'a=1,b=2');
  const call = serviceC.received.at(-1);
  assert.deepEqual(call.headers.tracestate, ['a=1,b=2']);
  assert.equal(call.headers.traceparent.length, 1);
  assert.match(call.headers.traceparent[0], new RegExp(`^00-${TRACE_A}-[0-9a-f]{16}-01$`));
});

test('traceresponse names the server span of a continued trace', async () => {
  const response = await send(`${app.url}/api/process`, { headers: { traceparent: PARENT_A } });
  const server = await serverSpanOf(response);
  assert.equal(server.kind, SpanKind.SERVER);
  assert.equal(response.headers.traceresponse, `00-${TRACE_A}-${server.spanContext().spanId}-01`);
});

test('an unsampled parent is recorded all the same, and traceresponse says so', async () => {
  const response = await send(`${app.url}/api/process`, { headers: { traceparent: `00-${TRACE_A}-${SPAN_A}-00` } });
  assert.equal(response.status, 200);
  assert.match(response.headers.traceresponse, new RegExp(`^00-${TRACE_A}-[0-9a-f]{16}-01$`));
  const server = await serverSpanOf(response);
  assert.equal(server.parentSpanContext.spanId, SPAN_A);
});

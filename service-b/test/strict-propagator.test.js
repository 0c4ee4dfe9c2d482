'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { ROOT_CONTEXT, trace, defaultTextMapGetter, defaultTextMapSetter } = require('@opentelemetry/api');
const {
  StrictTraceContextPropagator,
  inspectTraceparent,
  readTracestate,
} = require('../src/telemetry/strict-propagator');
const { MAX_MEMBERS, parseTracestate, tracestateMembers } = require('../src/telemetry/tracestate');

const TRACE_A = '0af7651916cd43dd8448eb211c80319c';
const TRACE_B = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_A = `00-${TRACE_A}-b7ad6b7169203331-01`;
const PARENT_B = `00-${TRACE_B}-00f067aa0ba902b7-01`;

const propagator = new StrictTraceContextPropagator();
const extracted = (headers) => trace.getSpanContext(propagator.extract(ROOT_CONTEXT, headers, { get: (c, k) => c[k], keys: Object.keys }));

// The contract's rows run against every service in tests/e2e/test_45_w3c_rules.py
// and test_30_duplicate_traceparent.py; these are what HTTP cannot send or show.
test('extract: no traceparent, no parent', () => {
  assert.equal(extracted({}), undefined);
});

test('inspectTraceparent lists each distinct value once', () => {
  assert.deepEqual(inspectTraceparent({ traceparent: [PARENT_A, `${PARENT_B}, ${PARENT_A}`] }), {
    values: [PARENT_A, PARENT_B],
    conflicting: true,
  });
  assert.deepEqual(inspectTraceparent({ traceparent: [PARENT_A, PARENT_A] }), { values: [PARENT_A], conflicting: false });
  assert.deepEqual(inspectTraceparent({}), { values: [], conflicting: false });
});

// llhttp refuses a control character in a header, so only this test sees the value rule refuse one.
test('tracestate: a value with a control character is refused', () => {
  assert.equal(readTracestate({ tracestate: 'a=x\u0001y' })?.serialize() ?? null, null);
});

// [incoming flags, flags on an outgoing call from a local child span (sampled or not)]
const RANDOM_FLAG_CASES = [
  ['01', 1, '01'],
  ['00', 0, '00'],
  ['02', 0, '02'],
  ['03', 1, '03'],
];

for (const [incoming, localFlags, outgoing] of RANDOM_FLAG_CASES) {
  test(`trace flags ${incoming} arrive; a local span with flags ${localFlags} sends ${outgoing}`, () => {
    const remote = propagator.extract(ROOT_CONTEXT, { traceparent: `00-${TRACE_A}-b7ad6b7169203331-${incoming}` }, defaultTextMapGetter);
    // What the SDK's Tracer makes of it: a local span whose flags are the
    // sampling decision alone (the random bit is gone).
    const local = trace.setSpanContext(remote, { traceId: TRACE_A, spanId: '00f067aa0ba902b7', traceFlags: localFlags });
    const carrier = {};
    propagator.inject(local, carrier, defaultTextMapSetter);
    assert.equal(carrier.traceparent, `00-${TRACE_A}-00f067aa0ba902b7-${outgoing}`);
  });
}

test('the random flag is not carried onto another trace', () => {
  const remote = propagator.extract(ROOT_CONTEXT, { traceparent: `00-${TRACE_A}-b7ad6b7169203331-03` }, defaultTextMapGetter);
  const other = trace.setSpanContext(remote, { traceId: TRACE_B, spanId: '00f067aa0ba902b7', traceFlags: 1 });
  const carrier = {};
  propagator.inject(other, carrier, defaultTextMapSetter);
  assert.equal(carrier.traceparent, `00-${TRACE_B}-00f067aa0ba902b7-01`);
});

test('inject writes exactly one traceparent (standard W3C behaviour)', () => {
  const context = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: TRACE_A,
    spanId: 'b7ad6b7169203331',
    traceFlags: 1,
  });
  const carrier = {};
  propagator.inject(context, carrier, defaultTextMapSetter);
  assert.deepEqual(carrier, { traceparent: PARENT_A });
  assert.deepEqual(propagator.fields(), ['traceparent', 'tracestate']);
});

test('a tracestate list is read no further than one member past the limit', () => {
  let read = 0;
  function* members() {
    for (;;) {
      read += 1;
      yield `k${read}=v`;
    }
  }
  assert.equal(parseTracestate(members()), undefined);
  assert.equal(read, MAX_MEMBERS + 1);
  // Splitting a whole header first is what this avoids: a line is read member by member too.
  const line = Array.from({ length: 10000 }, (_, index) => `k${index}=v`).join(',');
  const iterator = tracestateMembers([line]);
  assert.deepEqual([iterator.next().value, iterator.next().value], ['k0=v', 'k1=v']);
});

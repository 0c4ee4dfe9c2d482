'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { ROOT_CONTEXT, trace, defaultTextMapSetter } = require('@opentelemetry/api');
const {
  StrictTraceContextPropagator,
  inspectTraceparent,
  combineTracestate,
} = require('../src/telemetry/strict-propagator');

const TRACE_A = '0af7651916cd43dd8448eb211c80319c';
const TRACE_B = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_A = `00-${TRACE_A}-b7ad6b7169203331-01`;
const PARENT_B = `00-${TRACE_B}-00f067aa0ba902b7-01`;

const propagator = new StrictTraceContextPropagator();
const extracted = (headers) => trace.getSpanContext(propagator.extract(ROOT_CONTEXT, headers, { get: (c, k) => c[k], keys: Object.keys }));

// [case, incoming headers, expected parent trace id or null for "new trace"]
const CASES = [
  ['no traceparent', {}, null],
  ['one traceparent', { traceparent: PARENT_A }, TRACE_A],
  ['one traceparent with surrounding spaces', { traceparent: `  ${PARENT_A} ` }, TRACE_A],
  ['identical duplicates as two lines', { traceparent: [PARENT_A, PARENT_A] }, TRACE_A],
  ['identical duplicates joined by Node (", ")', { traceparent: `${PARENT_A}, ${PARENT_A}` }, TRACE_A],
  ['conflicting values as two lines', { traceparent: [PARENT_A, PARENT_B] }, null],
  ['conflicting values joined by Node (", ")', { traceparent: `${PARENT_A}, ${PARENT_B}` }, null],
  ['conflicting values joined by a proxy (",")', { traceparent: `${PARENT_A},${PARENT_B}` }, null],
  ['a valid and an invalid value', { traceparent: `${PARENT_A}, garbage` }, null],
  ['an invalid value alone', { traceparent: 'garbage' }, null],
  ['an empty value', { traceparent: '' }, null],
];

for (const [name, headers, expectedTrace] of CASES) {
  test(`extract: ${name}`, () => {
    const parent = extracted(headers);
    if (expectedTrace === null) {
      assert.equal(parent, undefined);
    } else {
      assert.equal(parent.traceId, expectedTrace);
      assert.equal(parent.isRemote, true);
    }
  });
}

test('inspectTraceparent lists each distinct value once', () => {
  assert.deepEqual(inspectTraceparent({ traceparent: [PARENT_A, `${PARENT_B}, ${PARENT_A}`] }), {
    values: [PARENT_A, PARENT_B],
    conflicting: true,
  });
  assert.deepEqual(inspectTraceparent({ traceparent: [PARENT_A, PARENT_A] }), { values: [PARENT_A], conflicting: false });
  assert.deepEqual(inspectTraceparent({}), { values: [], conflicting: false });
});

const TRACESTATES = [
  [undefined, ''],
  ['a=1', 'a=1'],
  [['a=1', 'b=2'], 'a=1,b=2'],
  [['a=1', '', 'b=2'], 'a=1,b=2'],
  ['a=1, ,b=2', 'a=1,b=2'],
  [['a=1,b=2', 'c=3'], 'a=1,b=2,c=3'],
];

for (const [raw, expected] of TRACESTATES) {
  test(`tracestate ${JSON.stringify(raw)} combines to ${JSON.stringify(expected)}`, () => {
    assert.equal(combineTracestate({ tracestate: raw }), expected);
  });
}

test('tracestate lines reach the extracted context in order', () => {
  const parent = extracted({ traceparent: PARENT_A, tracestate: ['a=1', '', 'b=2'] });
  assert.equal(parent.traceState.serialize(), 'a=1,b=2');
});

test('tracestate of a rejected traceparent is ignored too', () => {
  assert.equal(extracted({ traceparent: [PARENT_A, PARENT_B], tracestate: 'a=1' }), undefined);
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

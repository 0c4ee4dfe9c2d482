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

// [case, tracestate header (array = separate lines), serialized result or
// null for "discarded whole"] -- docs/contract.md "tracestate", with the key
// grammar and duplicate handling of W3C Trace Context Level 2 (see README).
const members = (count) => Array.from({ length: count }, (_, index) => `k${index}=${index}`).join(',');
const TRACESTATES = [
  ['absent', undefined, null],
  ['empty line', '', null],
  ['one member', 'a=1', 'a=1'],
  ['lines combined in order', ['a=1', 'b=2'], 'a=1,b=2'],
  ['empty line ignored', ['a=1', '', 'b=2'], 'a=1,b=2'],
  ['empty member (white space only) ignored', 'a=1, ,\t,b=2', 'a=1,b=2'],
  ['white space around members', ' a=1 ,\tb=2\t', 'a=1,b=2'],
  ['lists in several lines', ['a=1,b=2', 'c=3'], 'a=1,b=2,c=3'],
  ['32 members', members(32), members(32)],
  ['33 members', members(33), null],
  ['33 members over several lines', [members(20), members(33).split(',').slice(20).join(',')], null],
  ['33 members, one a duplicate key', `${members(32)},k1=w`, null],
  ['tenant@vendor key', 'tenant@vendor=1', 'tenant@vendor=1'],
  ['key starting with a digit', '1vendor=1', '1vendor=1'],
  ['key with _ - * /', 'a_b-c*d/e=1', 'a_b-c*d/e=1'],
  ['key of 256 characters', `${'z'.repeat(256)}=1`, `${'z'.repeat(256)}=1`],
  ['key of 257 characters', [`foo=1`, `${'z'.repeat(257)}=1`], null],
  ['tenant 241 + vendor 14', `${'t'.repeat(241)}@${'v'.repeat(14)}=1`, `${'t'.repeat(241)}@${'v'.repeat(14)}=1`],
  ['Level 2: key ending in @', 'foo@=1,bar=2', 'foo@=1,bar=2'],
  ['Level 2: key with two @', 'foo@bar@baz=1', 'foo@bar@baz=1'],
  ['key starting with @', '@foo=1,bar=2', null],
  ['upper-case key', 'FOO=1', null],
  ['key with a dot', 'foo.bar=1', null],
  ['key with a space inside', 'foo =1', null],
  ['member without =', 'foo', null],
  ['empty key', '=1', null],
  ['empty value', 'foo=,bar=3', null],
  ['value with =', 'foo=bar=baz', null],
  ['value of 256 characters', `a=${'v'.repeat(256)}`, `a=${'v'.repeat(256)}`],
  ['value of 257 characters', `a=${'v'.repeat(257)}`, null],
  ['value with leading spaces kept', 'a=  x', 'a=  x'],
  ['value with every allowed character', `a=${'!"#$%&\'()*+-./09:;<>?@AZ[\\]^_`az{|}~'}`, `a=${'!"#$%&\'()*+-./09:;<>?@AZ[\\]^_`az{|}~'}`],
  ['value with a non-ASCII character', 'a=caf\u00e9', null],
  ['value with a control character', 'a=x\u0001y', null],
  ['duplicate key: the first value is kept', 'foo=1,foo=2', 'foo=1'],
  ['duplicate key over two lines', ['foo=1', 'foo=2,bar=3'], 'foo=1,bar=3'],
];

for (const [name, raw, expected] of TRACESTATES) {
  test(`tracestate: ${name}`, () => {
    assert.equal(readTracestate({ tracestate: raw })?.serialize() ?? null, expected);
  });
}

test('an invalid tracestate is dropped but the traceparent is continued', () => {
  const parent = extracted({ traceparent: PARENT_A, tracestate: ['a=1', 'B=2'] });
  assert.equal(parent.traceId, TRACE_A);
  assert.equal(parent.traceState, undefined);
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

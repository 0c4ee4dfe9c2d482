'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { isValidXTraceId, mintXTraceId } = require('../src/middleware/x-trace-id');
const { parseHopCount } = require('../src/middleware/hop-limit');
const { traceresponseValue } = require('../src/middleware/traceresponse');

const X_TRACE_IDS = [
  ['trace-20261125T004012Z-1a2b3c4d', true],
  ['a', true],
  ['A1._:-', true],
  ['x'.repeat(64), true],
  ['x'.repeat(65), false],
  ['', false],
  ['-leading-dash', false],
  ['.leading-dot', false],
  ['has space', false],
  ['quote"inside', false],
  ['new\nline', false],
  ['{"json":1}', false],
  ['ünicode', false],
  [undefined, false],
];

for (const [value, valid] of X_TRACE_IDS) {
  test(`X-Trace-ID ${JSON.stringify(value)} is ${valid ? 'kept' : 'replaced'}`, () => {
    assert.equal(isValidXTraceId(value), valid);
  });
}

test('a minted X-Trace-ID has the gateway format and is valid', () => {
  const id = mintXTraceId(new Date('2026-11-25T00:40:12.345Z'));
  assert.match(id, /^trace-20261125T004012Z-[0-9a-f]{8}$/);
  assert.ok(isValidXTraceId(id));
  assert.notEqual(mintXTraceId(), mintXTraceId());
});

// [X-Hop-Count header lines as req.headersDistinct lists them, hop count or
// undefined for "400 invalid_hop_count"]
const HOP_COUNTS = [
  [undefined, 0],
  [['0'], 0],
  [['5'], 5],
  [['12'], 12],
  [['999'], 999],
  [['007'], 7],
  [['1000'], undefined],
  [['9'.repeat(10240)], undefined],
  [['-1'], undefined],
  [['+1'], undefined],
  [['1.5'], undefined],
  [['1e2'], undefined],
  [['0x1'], undefined],
  [['abc'], undefined],
  [[''], undefined],
  [[' 1'], undefined],
  [['1 '], undefined],
  [['\u0661'], undefined],
  [['1, 2'], undefined],
  [['1', '1'], undefined],
  [['1', '2'], undefined],
];

for (const [lines, expected] of HOP_COUNTS) {
  test(`X-Hop-Count ${JSON.stringify(lines)?.slice(0, 40)} -> ${expected}`, () => {
    assert.equal(parseHopCount(lines), expected);
  });
}

const TRACERESPONSES = [
  [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 }, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
  [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 0 }, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00'],
];

for (const [spanContext, expected] of TRACERESPONSES) {
  test(`traceresponse for flags ${spanContext.traceFlags}`, () => {
    assert.equal(traceresponseValue(spanContext), expected);
  });
}

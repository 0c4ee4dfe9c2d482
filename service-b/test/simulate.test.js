'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  BASE_LATENCY_MS,
  MEMORY_BUDGET_BYTES,
  MEMORY_REQUEST_BYTES,
  MemoryLimitExceeded,
  OperationTimeout,
  reserveMemory,
  runWithDeadline,
  shouldFail,
  simulateLatency,
  simulationParams,
} = require('../src/simulate');
const { HttpError } = require('../src/http-errors');

const PARAMS = [
  [{}, { delayMs: 0, fail: undefined }],
  [{ delay_ms: '0' }, { delayMs: 0, fail: undefined }],
  [{ delay_ms: '250' }, { delayMs: 250, fail: undefined }],
  [{ delay_ms: '-5' }, { delayMs: 0, fail: undefined }],
  [{ delay_ms: '10000' }, { delayMs: 10000, fail: undefined }],
  [{ delay_ms: '99999' }, { delayMs: 10000, fail: undefined }],
  [{ delay_ms: '007' }, { delayMs: 7, fail: undefined }],
  [{ delay_ms: '00000000000000000007' }, { delayMs: 7, fail: undefined }],
  [{ delay_ms: '99999999999999999999' }, { delayMs: 10000, fail: undefined }],
  [{ delay_ms: '-99999999999999999999' }, { delayMs: 0, fail: undefined }],
  [{ delay_ms: '9'.repeat(400) }, { delayMs: 10000, fail: undefined }],
  [{ delay_ms: '-0' }, { delayMs: 0, fail: undefined }],
  [{ fail: 'true' }, { delayMs: 0, fail: true }],
  [{ fail: 'false' }, { delayMs: 0, fail: false }],
  [{ delay_ms: '7', fail: 'true' }, { delayMs: 7, fail: true }],
];

for (const [query, expected] of PARAMS) {
  test(`simulation parameters ${JSON.stringify(query)}`, () => {
    assert.deepEqual(simulationParams(query), expected);
  });
}

test('an endpoint can have its own default delay', () => {
  assert.equal(simulationParams({}, { defaultDelayMs: 3000 }).delayMs, 3000);
  assert.equal(simulationParams({ delay_ms: '10' }, { defaultDelayMs: 3000 }).delayMs, 10);
});

// The other refused spellings are rows of tests/e2e/test_50_bad_input.py,
// which sends them to every service.
const INVALID_PARAMS = [
  { delay_ms: '-' },
  { delay_ms: ' 5' },
];

for (const query of INVALID_PARAMS) {
  test(`simulation parameters ${JSON.stringify(query)} are a 400 invalid_parameter`, () => {
    assert.throws(
      () => simulationParams(query),
      (error) => error instanceof HttpError && error.status === 400 && error.code === 'invalid_parameter',
    );
  });
}

const DECISIONS = [
  [true, 0.99, true],
  [false, 0.01, false],
  [undefined, 0.49, true],
  [undefined, 0.5, false],
];

for (const [fail, roll, expected] of DECISIONS) {
  test(`fail=${fail} with a roll of ${roll} -> ${expected ? 'fails' : 'succeeds'}`, () => {
    assert.equal(shouldFail(fail, () => roll), expected);
  });
}

test('latency is the base latency plus delay_ms', async () => {
  const startedAt = performance.now();
  await simulateLatency(20);
  assert.ok(performance.now() - startedAt >= BASE_LATENCY_MS + 20 - 1);
});

test('a slow operation is abandoned at its deadline', async () => {
  const startedAt = performance.now();
  await assert.rejects(runWithDeadline(5000, 50), OperationTimeout);
  const elapsed = performance.now() - startedAt;
  assert.ok(elapsed < 1000, `took ${elapsed} ms`);
});

test('an operation that fits its deadline completes', async () => {
  await runWithDeadline(0, 1000);
});

test('the timeout carries the contract short code as error type', () => {
  assert.equal(new OperationTimeout(10).errorType, 'timeout');
});

test('the memory budget is at most 1 MiB', () => {
  assert.ok(MEMORY_BUDGET_BYTES <= 1024 * 1024);
});

const MEMORY = [
  [MEMORY_REQUEST_BYTES.fitting, true],
  [MEMORY_BUDGET_BYTES, true],
  [MEMORY_BUDGET_BYTES + 1, false],
  [MEMORY_REQUEST_BYTES.failing, false],
];

for (const [bytes, fits] of MEMORY) {
  test(`reserving ${bytes} bytes ${fits ? 'fits' : 'exceeds'} the budget`, () => {
    if (fits) {
      assert.deepEqual(reserveMemory(bytes), { reservedBytes: bytes, budgetBytes: MEMORY_BUDGET_BYTES });
    } else {
      assert.throws(() => reserveMemory(bytes), (error) => error instanceof MemoryLimitExceeded && error.name === 'MemoryLimitExceeded');
    }
  });
}

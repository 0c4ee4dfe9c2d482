'use strict';

// callJson's outcomes, one row per kind of answer, with the CLIENT span each
// call leaves behind.

const { spansOfTrace, waitForTrace } = require('../test-support/telemetry');
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { trace, SpanKind, SpanStatusCode } = require('@opentelemetry/api');
const { startFakeServer, refusedUrl } = require('../test-support/http');
const { callJson, MAX_ANSWER_BYTES, DownstreamError } = require('../src/downstream');

// Answers that should arrive get a deadline no busy machine misses; the slow
// answer is held far beyond the short deadline of the timeout case.
const GENEROUS_TIMEOUT_MS = 10000;
const TIMEOUT_MS = 300;
const ANSWERS = {
  '/ok': { status: 200, body: { status: 'processed' } },
  '/failed': { status: 500, body: { error: 'processing_failed' } },
  '/no-json-error': { status: 503, body: 'overloaded' },
  // JSON-encoded, the string is a little longer than the limit.
  '/too-large': { status: 200, body: 'x'.repeat(MAX_ANSWER_BYTES) },
  '/slow': { status: 200, body: {}, delayMs: 60000 },
};

let fake;
let refused;

before(async () => {
  fake = await startFakeServer((request) => ANSWERS[request.url]);
  refused = await refusedUrl();
});

after(() => fake.close());

// [case, url, expected outcome (without body), CLIENT span: error.type, null
// when not ERROR, undefined when not checked, call deadline]
const CASES = [
  ['a 2xx JSON answer', () => `${fake.url}/ok`, { ok: true, status: 200 }, null, GENEROUS_TIMEOUT_MS],
  ['an error with a JSON error code', () => `${fake.url}/failed`, { ok: false, status: 500, error: 'processing_failed' }, '500', GENEROUS_TIMEOUT_MS],
  ['an error without a JSON body', () => `${fake.url}/no-json-error`, { ok: false, status: 503, error: 'bad_status' }, '503', GENEROUS_TIMEOUT_MS],
  // Not checked: on loopback the whole body may have arrived (span ended
  // without error) before the reader passes the limit.
  ['an answer over the size limit', () => `${fake.url}/too-large`, { ok: false, status: 200, error: 'invalid_response' }, undefined, GENEROUS_TIMEOUT_MS],
  ['no answer within the timeout', () => `${fake.url}/slow`, { ok: false, status: null, error: 'timeout' }, 'TimeoutError', TIMEOUT_MS],
  ['a refused connection', () => `${refused}/`, { ok: false, status: null, error: 'unreachable' }, 'ECONNREFUSED', GENEROUS_TIMEOUT_MS],
];

for (const [name, url, expected, clientErrorType, timeoutMs] of CASES) {
  test(`callJson: ${name}`, async () => {
    const { outcome, traceId } = await trace.getTracer('test').startActiveSpan('caller', async (caller) => {
      try {
        return {
          outcome: await callJson(url(), { xTraceId: 'trace-1', hopCount: 0, timeoutMs }),
          traceId: caller.spanContext().traceId,
        };
      } finally {
        caller.end();
      }
    });
    const { body: _body, ...rest } = outcome;
    assert.deepEqual(rest, expected);

    await waitForTrace(traceId, (spans) => spans.some((span) => span.kind === SpanKind.CLIENT));
    if (clientErrorType !== undefined) {
      const [client] = spansOfTrace(traceId).filter((span) => span.kind === SpanKind.CLIENT);
      assert.equal(client.status.code === SpanStatusCode.ERROR, clientErrorType !== null);
      assert.equal(client.attributes['error.type'], clientErrorType ?? undefined);
    }
  });
}

const DOWNSTREAM_ERRORS = [
  [{ ok: false, status: 500, error: 'processing_failed' }, 'http.500', 'service-c failed: HTTP 500'],
  [{ ok: false, status: 200, error: 'invalid_response' }, 'invalid_response', 'service-c failed: invalid_response'],
  [{ ok: false, status: null, error: 'timeout' }, 'timeout', 'service-c failed: timeout'],
];

for (const [outcome, errorType, message] of DOWNSTREAM_ERRORS) {
  test(`a failed call ${JSON.stringify(outcome)} is recorded as error.type ${errorType}`, () => {
    const error = new DownstreamError('service-c', outcome);
    assert.deepEqual({ errorType: error.errorType, message: error.message }, { errorType, message });
  });
}

'use strict';

// docs/contract.md, "Logs": no request for the path /health is traced,
// whatever its method, query or answer (the HTTP instrumentation's
// ignoreIncomingRequestHook); the answer is the same but for what a server
// span would supply. Other spellings of the path are 404s, traced as before.

const { spansOfTrace, waitForTrace, exporter } = require('../test-support/telemetry');
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { randomBytes } = require('node:crypto');
const { send } = require('../test-support/http');
const { appForFile } = require('../test-support/app');
const { waitFor } = require('../test-support/wait');

const INVALID_TRACE_ID = '0'.repeat(32);

const app = appForFile();

function freshTraceparent() {
  const traceId = randomBytes(16).toString('hex');
  return { traceId, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
}

// [method, path, extra headers, status, traced?]
const CASES = [
  ['GET', '/health', {}, 200, false],
  ['HEAD', '/health', {}, 200, false],
  ['GET', '/health?probe=kubelet', {}, 200, false],
  ['GET', '/health', { 'x-hop-count': '99' }, 508, false],
  ['POST', '/health', {}, 405, false],
  ['GET', '/health/', {}, 404, true],
  ['GET', '/%68ealth', {}, 404, false], // compared decoded, as in service-c
  ['GET', '//health', {}, 404, true],
  ['GET', '/health%3F', {}, 404, true],
  ['GET', '/health%ZZ', {}, 404, true],
];

for (const [method, path, headers, status, traced] of CASES) {
  test(`${method} ${path} ${JSON.stringify(headers)} -> ${status}, ${traced ? 'traced' : 'not traced'}`, async () => {
    const health = freshTraceparent();
    const response = await send(`${app.url}${path}`, { method, headers: { ...headers, traceparent: health.traceparent } });
    assert.equal(response.status, status);
    const xTraceId = response.headers['x-trace-id'];
    if (traced) {
      await waitForTrace(health.traceId, (spans) => spans.length > 0);
      return;
    }
    assert.equal(response.headers.traceresponse, undefined);
    if (method !== 'HEAD') {
      assert.equal(response.body.service, 'service-b');
      assert.equal(response.body.trace_id, xTraceId);
      assert.equal(response.body.otel_trace_id, INVALID_TRACE_ID);
      if (status === 200) {
        assert.equal(response.body.status, 'ok');
      }
    }

    // A traced request after it: once its span is in, a health span would be too.
    const marker = freshTraceparent();
    await send(`${app.url}/api/process`, { headers: { traceparent: marker.traceparent } });
    await waitForTrace(marker.traceId, (spans) => spans.length > 0);
    assert.deepEqual(spansOfTrace(health.traceId), []);
    const tagged = exporter.getFinishedSpans().filter((span) => span.attributes['app.x_trace_id'] === xTraceId);
    assert.deepEqual(tagged, []);

    // A failing check is logged, without span ids; a passing one is not.
    if (status >= 400) {
      await waitFor(() => app.logLines().some((line) => line.x_trace_id === xTraceId && line.message === 'request completed'), {
        what: `the request completed line of ${xTraceId}`,
      });
    }
    for (const line of app.logLines().filter((entry) => entry.x_trace_id === xTraceId)) {
      assert.deepEqual([line.trace_id, line.span_id], ['', ''], JSON.stringify(line));
    }
  });
}

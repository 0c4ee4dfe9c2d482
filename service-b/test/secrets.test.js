'use strict';

// docs/contract.md "Secrets never stored", the part this service decides:
// request headers are never captured and log lines carry no query string.
// The query goes on the spans as received; the Collector redacts its
// credentials (tests/e2e/test_65_secrets.py).

const { waitForTrace } = require('../test-support/telemetry');
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { SpanKind } = require('@opentelemetry/api');
const { send, startFakeServer } = require('../test-support/http');
const { startApp } = require('../test-support/app');
const { waitFor } = require('../test-support/wait');

let app;
let downstream;

before(async () => {
  downstream = await startFakeServer(() => ({ status: 200, body: { service: 'service-c' } }));
  app = await startApp({ SERVICE_C_URL: downstream.url });
});

after(async () => {
  await app.close();
  await downstream.close();
});

const SECRET = 's3cr3t-value';
const HEADER_SECRET = 's3cr3t-header';

test('no header reaches a span, the query is recorded as received, no log line has it', async () => {
  // circular-b-to-c calls C without a query; POST /test calls any URL, with one.
  // A ';' and a '?' inside a value stay as sent, so the Collector sees the credentials behind them.
  const query = `Password=${SECRET}&next=/a?token=${SECRET}&x=1;secret=${SECRET}&delay_ms=1`;
  const target = `${downstream.url}/callback?Access_Token=${SECRET}&page=2`;
  const response = await send(`${app.url}/test?${query}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${HEADER_SECRET}`,
      cookie: `session=${HEADER_SECRET}`,
    },
    body: JSON.stringify([{ url: target, arguments: [] }]),
  });
  assert.equal(response.status, 200);
  const [, traceId] = response.headers.traceresponse.split('-');
  const spans = await waitForTrace(traceId, (found) =>
    [SpanKind.SERVER, SpanKind.CLIENT].every((kind) => found.some((span) => span.kind === kind)),
  );
  // (The fake downstream runs in this process: its SERVER span is in the trace too.)
  const server = spans.find((span) => span.kind === SpanKind.SERVER && span.attributes['url.path'] === '/test');
  const client = spans.find((span) => span.kind === SpanKind.CLIENT);
  assert.equal(server.attributes['url.query'], query);
  assert.equal(client.attributes['url.full'], target);
  for (const span of spans) {
    const recorded = JSON.stringify({ attributes: span.attributes, events: span.events, name: span.name });
    assert.ok(!recorded.includes(HEADER_SECRET), `${span.name} records a header: ${recorded}`);
  }

  const ofTrace = () => app.rawLogLines.filter((line) => line.includes(traceId));
  await waitFor(() => ofTrace().some((line) => line.includes('"request completed"')), { what: 'the request line' });
  const lines = ofTrace();
  for (const line of lines) {
    assert.ok(!line.includes(SECRET) && !line.includes(HEADER_SECRET), `log line leaks: ${line}`);
    assert.ok(!line.includes('delay_ms=1'), `log line has the query string: ${line}`);
  }
});

test('an unknown route is logged by its path only', async () => {
  const response = await send(`${app.url}/nope?token=${SECRET}`);
  assert.equal(response.status, 404);
  const line = await waitFor(
    () => app.logLines().find((entry) => entry.trace_id === response.body.otel_trace_id && entry.message === 'request completed'),
    { what: 'the request line' },
  );
  assert.equal(line.route, '/nope');
});

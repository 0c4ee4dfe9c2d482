'use strict';

// docs/contract.md "Secrets never stored": credential query parameters are
// REDACTED in every URL attribute of the SERVER and CLIENT spans, request
// headers are never captured, log lines carry no query string.

const fs = require('node:fs');
const path = require('node:path');
const { waitForTrace } = require('../test-support/telemetry');
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { SpanKind } = require('@opentelemetry/api');
const { send, startFakeServer } = require('../test-support/http');
const { startApp } = require('../test-support/app');
const { waitFor } = require('../test-support/wait');
const { redact, CREDENTIAL_PARAMS } = require('../src/telemetry/url-redaction');

// The contract's names and its table of examples, shared with the other services and the Collector.
const RULE = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', '..', 'observability', 'credential-redaction.json'), 'utf8'),
);

test('the list of credential names is the contract\'s', () => {
  assert.deepEqual([...CREDENTIAL_PARAMS].sort(), [...RULE.names].sort());
});

for (const { why, text, redacted } of RULE.cases) {
  test(`redact: ${why}`, () => {
    assert.equal(redact(text), redacted);
  });
}

test('every listed name is redacted in any case', () => {
  for (const name of CREDENTIAL_PARAMS) {
    for (const spelling of [name, name.toUpperCase()]) {
      assert.equal(redact(`${spelling}=s3cr3t`), `${spelling}=REDACTED`);
    }
  }
});

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

test('SERVER and CLIENT spans carry REDACTED for credential parameters, and no secret anywhere', async () => {
  // circular-b-to-c calls C without a query; POST /test calls any URL, with one.
  const target = `${downstream.url}/callback?Access_Token=${SECRET}&page=2`;
  const response = await send(`${app.url}/test?Password=${SECRET}&delay_ms=1`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${SECRET}`,
      cookie: `session=${SECRET}`,
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
  assert.equal(server.attributes['url.query'], 'Password=REDACTED&delay_ms=1');
  assert.equal(client.attributes['url.query'], '?Access_Token=REDACTED&page=2');
  assert.equal(client.attributes['url.full'], `${downstream.url}/callback?Access_Token=REDACTED&page=2`);
  for (const span of spans) {
    const recorded = JSON.stringify({ attributes: span.attributes, events: span.events, name: span.name });
    assert.ok(!recorded.includes(SECRET), `${span.name} leaks: ${recorded}`);
  }
  // The call itself still carries the real value.
  assert.equal(downstream.received.at(-1).url, `/callback?Access_Token=${SECRET}&page=2`);

  const ofTrace = () => app.rawLogLines.filter((line) => line.includes(traceId));
  await waitFor(() => ofTrace().some((line) => line.includes('"request completed"')), { what: 'the request line' });
  const lines = ofTrace();
  for (const line of lines) {
    assert.ok(!line.includes(SECRET), `log line leaks: ${line}`);
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

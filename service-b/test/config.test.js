'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { loadConfig, ConfigError } = require('../src/config');

test('defaults come from .env and the contract', () => {
  assert.deepEqual({ ...loadConfig({}) }, {
    serviceName: 'service-b',
    host: '0.0.0.0',
    port: 8082,
    serviceUrls: { 'service-a': 'http://127.0.0.1:8081', 'service-c': 'http://127.0.0.1:8083' },
    downstreamTimeoutMs: 2000,
    maxHops: 5,
    maxRequestsPerConnection: 5,
    logLevel: 'INFO',
    conformanceEndpoint: false,
  });
});

const VALID = [
  ['OTEL_SERVICE_NAME', 'service-b', 'serviceName', 'service-b'],
  ['HOST', '127.0.0.1', 'host', '127.0.0.1'],
  ['PORT', '18082', 'port', 18082],
  ['PORT', '0', 'port', 0],
  ['DOWNSTREAM_TIMEOUT_MS', '250', 'downstreamTimeoutMs', 250],
  ['MAX_HOPS', '0', 'maxHops', 0],
  ['MAX_REQUESTS_PER_CONNECTION', '0', 'maxRequestsPerConnection', 0],
  ['MAX_REQUESTS_PER_CONNECTION', '100', 'maxRequestsPerConnection', 100],
  ['LOG_LEVEL', 'debug', 'logLevel', 'DEBUG'],
  ['LOG_LEVEL', 'WARN', 'logLevel', 'WARN'],
  ['CONFORMANCE_ENDPOINT', 'on', 'conformanceEndpoint', true],
  ['CONFORMANCE_ENDPOINT', ' off ', 'conformanceEndpoint', false],
  ['CONFORMANCE_ENDPOINT', '', 'conformanceEndpoint', false],
];

for (const [name, value, key, expected] of VALID) {
  test(`${name}=${value} is read as ${JSON.stringify(expected)}`, () => {
    assert.deepEqual(loadConfig({ [name]: value })[key], expected);
  });
}

test('base URLs lose their trailing slash', () => {
  const config = loadConfig({ SERVICE_A_URL: 'http://a:8081/', SERVICE_C_URL: 'https://c:8443//' });
  assert.deepEqual(config.serviceUrls, { 'service-a': 'http://a:8081', 'service-c': 'https://c:8443' });
});

const INVALID = [
  ['PORT', 'abc'],
  ['PORT', '70000'],
  ['PORT', '-1'],
  ['DOWNSTREAM_TIMEOUT_MS', '0'],
  ['DOWNSTREAM_TIMEOUT_MS', '1.5'],
  ['MAX_HOPS', 'five'],
  ['MAX_REQUESTS_PER_CONNECTION', '-1'],
  ['LOG_LEVEL', 'VERBOSE'],
  ['SERVICE_A_URL', 'not a url'],
  ['SERVICE_C_URL', 'ftp://c:21'],
  ['CONFORMANCE_ENDPOINT', 'true'],
  ['CONFORMANCE_ENDPOINT', 'ON'],
];

for (const [name, value] of INVALID) {
  test(`${name}=${JSON.stringify(value)} is refused, naming the variable`, () => {
    assert.throws(
      () => loadConfig({ [name]: value }),
      (error) => error instanceof ConfigError && error.problems.length === 1 && error.problems[0].startsWith(name),
    );
  });
}

test('every problem is reported at once', () => {
  assert.throws(
    () => loadConfig({ PORT: 'x', MAX_HOPS: 'y' }),
    (error) => error instanceof ConfigError && error.problems.length === 2,
  );
});

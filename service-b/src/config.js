'use strict';

// The service's whole configuration, read from the environment
// (docs/contract.md, "Environment"). Values are checked once at start-up so a
// typo fails loudly instead of surfacing later as odd behaviour.

const DEFAULT_SERVICE_NAME = 'service-b';

// Defaults match .env at the repository root; compose and the native runner
// always set these variables, the defaults only serve a bare `npm start`.
const DEFAULTS = {
  HOST: '0.0.0.0',
  PORT: '8082',
  SERVICE_A_URL: 'http://127.0.0.1:8081',
  SERVICE_C_URL: 'http://127.0.0.1:8083',
  DOWNSTREAM_TIMEOUT_MS: '2000',
  MAX_HOPS: '5',
  MAX_REQUESTS_PER_CONNECTION: '5',
  LOG_LEVEL: 'INFO',
};

const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'];
// POST /test calls any URL its body names, so it is served only where a run
// mode asks for it (docs/contract.md, "Environment"). Unset or blank: off.
const SWITCH = { on: true, off: false };

class ConfigError extends Error {
  constructor(problems) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

function serviceNameFrom(env) {
  return env.OTEL_SERVICE_NAME || DEFAULT_SERVICE_NAME;
}

function loadConfig(env = process.env) {
  const problems = [];
  const read = (name) => env[name] ?? DEFAULTS[name];

  const integer = (name, { min, max }) => {
    const raw = read(name);
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      problems.push(`${name} must be an integer in ${min}..${max}, got ${JSON.stringify(raw)}`);
    }
    return value;
  };

  const baseUrl = (name) => {
    const raw = read(name);
    let url;
    try {
      url = new URL(raw);
    } catch {
      url = undefined;
    }
    if (!url || !['http:', 'https:'].includes(url.protocol)) {
      problems.push(`${name} must be an http(s) URL, got ${JSON.stringify(raw)}`);
      return raw;
    }
    return raw.replace(/\/+$/, '');
  };

  const logLevel = read('LOG_LEVEL').toUpperCase();
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(read('LOG_LEVEL'))}`);
  }

  const conformanceEndpoint = (env.CONFORMANCE_ENDPOINT ?? '').trim() || 'off';
  if (!Object.hasOwn(SWITCH, conformanceEndpoint)) {
    problems.push(`CONFORMANCE_ENDPOINT must be on or off, got ${JSON.stringify(env.CONFORMANCE_ENDPOINT)}`);
  }

  const config = {
    serviceName: serviceNameFrom(env),
    host: read('HOST'),
    port: integer('PORT', { min: 0, max: 65535 }),
    serviceUrls: {
      'service-a': baseUrl('SERVICE_A_URL'),
      'service-c': baseUrl('SERVICE_C_URL'),
    },
    downstreamTimeoutMs: integer('DOWNSTREAM_TIMEOUT_MS', { min: 1, max: 600000 }),
    maxHops: integer('MAX_HOPS', { min: 0, max: 1000 }),
    maxRequestsPerConnection: integer('MAX_REQUESTS_PER_CONNECTION', { min: 0, max: Number.MAX_SAFE_INTEGER }),
    logLevel,
    conformanceEndpoint: SWITCH[conformanceEndpoint] === true,
  };

  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return Object.freeze(config);
}

module.exports = { loadConfig, serviceNameFrom, ConfigError, LOG_LEVELS };

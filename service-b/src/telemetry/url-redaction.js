'use strict';

// Credentials in query strings never reach a span (docs/contract.md, "Secrets
// never stored"). The instrumentations' own redaction is not enough: the
// HTTP instrumentation's list is short and case-sensitive, the undici one has
// none. Their start-span hooks return attributes that replace the ones the
// instrumentation computed, so the URL attributes are rewritten here before
// the span exists (and before any sampler or processor sees them).

const { ATTR_URL_FULL, ATTR_URL_QUERY } = require('@opentelemetry/semantic-conventions');

const REDACTED = 'REDACTED';

// Parameter names whose values are credentials, compared in lower case.
const CREDENTIAL_PARAMS = new Set([
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'password',
  'passwd',
  'pwd',
  'secret',
  'client_secret',
  'api_key',
  'apikey',
  'key',
  'sig',
  'signature',
  'auth',
  'credential',
  'session',
]);

// The parameter name as a form decoder reads it ("+" is a space, %XX escapes);
// an undecodable name is compared as sent.
function decodedName(raw) {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

function isCredential(rawName) {
  return CREDENTIAL_PARAMS.has(decodedName(rawName).toLowerCase());
}

/**
 * `query` (without "?") with the value of every credential parameter
 * replaced by REDACTED; other parameters are kept byte for byte.
 */
function redactQuery(query) {
  return query
    .split('&')
    .map((pair) => {
      const separator = pair.indexOf('=');
      const name = separator === -1 ? pair : pair.slice(0, separator);
      return isCredential(name) ? `${name}=${REDACTED}` : pair;
    })
    .join('&');
}

/** A request target or URL with its query redacted (the fragment, if any, dropped). */
function redactUrl(url) {
  const [withoutFragment] = url.split('#');
  const start = withoutFragment.indexOf('?');
  if (start === -1) {
    return withoutFragment;
  }
  return `${withoutFragment.slice(0, start + 1)}${redactQuery(withoutFragment.slice(start + 1))}`;
}

/** `startIncomingSpanHook` of the HTTP instrumentation: the SERVER span's url.query (no "?"). */
function serverUrlAttributes(request) {
  const target = redactUrl(request.url ?? '');
  const start = target.indexOf('?');
  return start === -1 ? {} : { [ATTR_URL_QUERY]: target.slice(start + 1) };
}

/**
 * `startSpanHook` of the undici instrumentation: the CLIENT span's url.full
 * and url.query, built the way the instrumentation builds them (url.query
 * keeps its "?").
 */
function clientUrlAttributes(request) {
  let url;
  try {
    url = new URL(request.path, request.origin);
  } catch {
    return {}; // the instrumentation cannot build one either and starts no span
  }
  const query = url.search === '' ? '' : `?${redactQuery(url.search.slice(1))}`;
  url.search = '';
  url.hash = '';
  return { [ATTR_URL_FULL]: `${url.toString()}${query}`, [ATTR_URL_QUERY]: query };
}

module.exports = { redactQuery, redactUrl, serverUrlAttributes, clientUrlAttributes, CREDENTIAL_PARAMS, REDACTED };

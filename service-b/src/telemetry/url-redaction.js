'use strict';

// Credentials in query strings never reach a span (docs/contract.md, "Secrets
// never stored"). The instrumentations' own redaction is not enough: the
// HTTP instrumentation's list is short and case-sensitive, the undici one has
// none. Their start-span hooks return attributes that replace the ones the
// instrumentation computed, so the URL attributes are rewritten here before
// the span exists (and before any sampler or processor sees them).

const { unescape } = require('node:querystring');
const { ATTR_URL_FULL, ATTR_URL_QUERY } = require('@opentelemetry/semantic-conventions');

const REDACTED = 'REDACTED';

// Parameter names whose values are credentials, compared in lower case: the
// contract's list (observability/credential-redaction.json; test/secrets.test.js compares).
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
  'auth',
  'credential',
  'session',
  'sig',
  'signature',
  'awsaccesskeyid',
  'x-amz-credential',
  'x-amz-security-token',
  'x-amz-signature',
  'googleaccessid',
  'x-goog-credential',
  'x-goog-signature',
]);

// ASCII white space as WHATWG counts it: it ends a name or a value.
const WHITE_SPACE = '\t\n\f\r ';
const NAME_ENDS = new Set(['=', '&', ';', '#', '?', ...WHITE_SPACE]);
const VALUE_ENDS = new Set(['&', ...WHITE_SPACE]);
const PARAMETER_STARTS = new Set(['?', '&', ';', '#']);
const EDGE_WHITE_SPACE = /^[\t\n\f\r ]+|[\t\n\f\r ]+$/g;
const ASCII = /^[\x00-\x7f]*$/;

function indexOfAny(text, from, chars) {
  let index = from;
  while (index < text.length && !chars.has(text[index])) {
    index += 1;
  }
  return index;
}

/**
 * Whether a parameter name, as written in a query, names a credential: read
 * as a form decoder reads it ("+" is a space; querystring.unescape keeps an
 * escape that is not one instead of throwing), cut at brackets
 * (user[password], token[]) and trimmed, any part is a listed name.
 */
function isCredential(rawName) {
  return unescape(rawName.replace(/\+/g, ' '))
    .split(/[[\]]/)
    .map((part) => part.replace(EDGE_WHITE_SPACE, ''))
    // ASCII only: toLowerCase would turn a Kelvin sign into "k".
    .some((part) => ASCII.test(part) && CREDENTIAL_PARAMS.has(part.toLowerCase()));
}

/**
 * `text` (a query, a URL, a message quoting one) with the value of every
 * credential parameter replaced by REDACTED (docs/contract.md, "Secrets never
 * stored"): a parameter starts the text or follows "?", "&", ";" or "#", its
 * name runs to "=", its value to the next "&" or white space. Everything
 * else is kept byte for byte.
 */
function redact(text) {
  let redacted = '';
  let copied = 0;
  let start = 0;
  for (;;) {
    const nameEnd = indexOfAny(text, start, NAME_ENDS);
    let resume = nameEnd;
    if (text[nameEnd] === '=' && isCredential(text.slice(start, nameEnd))) {
      resume = indexOfAny(text, nameEnd + 1, VALUE_ENDS);
      redacted += `${text.slice(copied, nameEnd + 1)}${REDACTED}`;
      copied = resume;
    }
    const next = indexOfAny(text, resume, PARAMETER_STARTS);
    if (next === text.length) {
      return redacted + text.slice(copied);
    }
    start = next + 1;
  }
}

/** `startIncomingSpanHook` of the HTTP instrumentation: the SERVER span's url.query (no "?"). */
function serverUrlAttributes(request) {
  const target = request.url ?? '';
  const start = target.indexOf('?');
  return start === -1 ? {} : { [ATTR_URL_QUERY]: redact(target.slice(start + 1)) };
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
  url.hash = '';
  return { [ATTR_URL_FULL]: redact(url.toString()), [ATTR_URL_QUERY]: redact(url.search) };
}

module.exports = { redact, serverUrlAttributes, clientUrlAttributes, CREDENTIAL_PARAMS, REDACTED };

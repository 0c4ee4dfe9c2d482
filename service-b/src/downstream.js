'use strict';

// Outbound HTTP calls (to the other services, and to the URLs POST /test is
// given).
//
// The global fetch() is undici, instrumented by
// @opentelemetry/instrumentation-undici: it creates the CLIENT span and adds
// traceparent/tracestate. Nothing here injects trace context by hand: undici's
// instrumentation *appends* headers, so a manual propagation.inject() would
// send two traceparent lines. The only headers set here are business ones:
// X-Trace-ID (copied) and X-Hop-Count (incoming + 1).

class DownstreamError extends Error {
  constructor(target, outcome) {
    const errorStatus = outcome.status >= 400;
    super(`${target} failed: ${errorStatus ? `HTTP ${outcome.status}` : outcome.error}`);
    this.name = 'DownstreamError';
    // Contract's short codes: "http.500" for an error status, otherwise the
    // call's own code ("timeout", "unreachable", "invalid_response").
    this.errorType = errorStatus ? `http.${outcome.status}` : outcome.error;
  }
}

// The demo's services answer with small JSON bodies, but POST /test may be
// pointed at any URL: a larger answer is cut off instead of being buffered
// whole (docs/contract.md, "Outbound calls").
const MAX_ANSWER_BYTES = 1024 * 1024;

// AbortSignal.timeout() would abort with a DOMException whose legacy numeric
// code (23) the undici instrumentation records as the span's error.type;
// aborting with this error records "TimeoutError" instead.
class TimeoutError extends Error {
  constructor(timeoutMs) {
    super(`no complete answer within ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}

class AnswerTooLarge extends Error {
  constructor(limitBytes) {
    super(`answer larger than ${limitBytes} bytes`);
    this.name = 'AnswerTooLarge';
  }
}

// One controller per call: the deadline aborts it, and so does an answer
// that is too large. The abort stops a body still arriving, and the undici
// instrumentation ends the CLIENT span in ERROR with the abort reason's name
// as error.type.
function callControl(timeoutMs) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new TimeoutError(timeoutMs)), timeoutMs);
  return {
    signal: controller.signal,
    abort: (reason) => controller.abort(reason),
    clear: () => clearTimeout(timer),
  };
}

// Reading the body to the end also lets the instrumentation end the span.
async function readAnswer(response, control) {
  const chunks = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      const error = new AnswerTooLarge(MAX_ANSWER_BYTES);
      control.abort(error);
      throw error;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Calls `url` with a deadline of `timeoutMs` covering the whole exchange,
 * following no redirect (docs/contract.md, "Outbound calls").
 * Never throws; resolves to
 *   { ok: true,  status, body }            for a 2xx answer
 *   { ok: false, status, error, body }     for any other answer, a 3xx included
 *   { ok: false, status, error: "invalid_response" }  for an answer over MAX_ANSWER_BYTES
 *   { ok: false, status, error: "timeout" }  at the deadline; status null if no headers came
 *   { ok: false, status: null, error: "unreachable" }  when no answer came
 */
async function callJson(url, { method = 'GET', json, xTraceId, hopCount, timeoutMs }) {
  const headers = { accept: 'application/json', 'x-hop-count': String(hopCount + 1) };
  if (xTraceId) {
    headers['x-trace-id'] = xTraceId;
  }
  if (json !== undefined) {
    headers['content-type'] = 'application/json';
  }
  const control = callControl(timeoutMs);
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
      signal: control.signal,
      // A 3xx is the call's answer: POST /test's targets are the caller's to
      // choose, and must not send calls on elsewhere.
      redirect: 'manual',
    });
    const body = parseJson(await readAnswer(response, control));
    if (response.ok) {
      return { ok: true, status: response.status, body };
    }
    return { ok: false, status: response.status, error: body?.error ?? 'bad_status', body };
  } catch (error) {
    if (error instanceof AnswerTooLarge) {
      return { ok: false, status: response.status, error: 'invalid_response' };
    }
    if (error instanceof TimeoutError) {
      return { ok: false, status: response?.status ?? null, error: 'timeout' };
    }
    return { ok: false, status: null, error: 'unreachable' };
  } finally {
    control.clear();
  }
}

/**
 * GET `path` on another service of the demo, for the current request. A
 * failure is logged here, once for every caller (docs/contract.md,
 * "Outbound calls").
 */
async function callService(config, logger, target, path, { xTraceId, hopCount }) {
  const url = `${config.serviceUrls[target]}${path}`;
  const outcome = await callJson(url, { xTraceId, hopCount, timeoutMs: config.downstreamTimeoutMs });
  if (!outcome.ok) {
    logger.warn(failedCallFields(url, outcome), 'downstream call failed');
  }
  return outcome;
}

/** The fields of a failed call's log line, the same in every service. */
function failedCallFields(url, outcome) {
  return { url: loggableUrl(url), error: outcome.error, downstream_status: outcome.status };
}

// `url` without user info, query or fragment: a log line never carries a
// query string (docs/contract.md, "Secrets never stored").
function loggableUrl(url) {
  const { protocol, host, pathname } = new URL(url);
  return `${protocol}//${host}${pathname}`;
}

/** The contract's entry for one step in a fan-out's "results". */
function resultEntry(outcome) {
  return outcome.ok ? outcome.body : { error: outcome.error, status: outcome.status };
}

module.exports = { callJson, callService, failedCallFields, resultEntry, DownstreamError, MAX_ANSWER_BYTES };

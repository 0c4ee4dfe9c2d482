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
    super(`${target} failed: ${outcome.status === null ? outcome.error : `HTTP ${outcome.status}`}`);
    this.name = 'DownstreamError';
    // Contract's short codes: "timeout", "unreachable", "http.500", ...
    this.errorType = outcome.status === null ? outcome.error : `http.${outcome.status}`;
  }
}

// AbortSignal.timeout() would abort with a DOMException whose legacy numeric
// code (23) the undici instrumentation records as the span's error.type;
// aborting with this error records "TimeoutError" instead.
class TimeoutError extends Error {
  constructor(timeoutMs) {
    super(`no complete answer within ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}

function deadline(timeoutMs) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new TimeoutError(timeoutMs)), timeoutMs);
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Calls `url` with a deadline of `timeoutMs` covering the whole exchange.
 * Never throws; resolves to
 *   { ok: true,  status, body }            for a 2xx answer
 *   { ok: false, status, error, body }     for any other answer
 *   { ok: false, status: null, error }     when no answer came ("timeout", "unreachable")
 */
async function callJson(url, { method = 'GET', json, xTraceId, hopCount, timeoutMs }) {
  const headers = { accept: 'application/json', 'x-hop-count': String(hopCount + 1) };
  if (xTraceId) {
    headers['x-trace-id'] = xTraceId;
  }
  if (json !== undefined) {
    headers['content-type'] = 'application/json';
  }
  const callDeadline = deadline(timeoutMs);
  try {
    const response = await fetch(url, {
      method,
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
      signal: callDeadline.signal,
    });
    // Reading the body to the end also lets the instrumentation end the span.
    const body = parseJson(await response.text());
    if (response.ok) {
      return { ok: true, status: response.status, body };
    }
    return { ok: false, status: response.status, error: body?.error ?? 'bad_status', body };
  } catch (error) {
    return { ok: false, status: null, error: error instanceof TimeoutError ? 'timeout' : 'unreachable' };
  } finally {
    callDeadline.clear();
  }
}

/** GET `path` on another service of the demo, for the current request. */
function callService(config, target, path, { xTraceId, hopCount }) {
  return callJson(`${config.serviceUrls[target]}${path}`, {
    xTraceId,
    hopCount,
    timeoutMs: config.downstreamTimeoutMs,
  });
}

/** The contract's entry for one step in a fan-out's "results". */
function resultEntry(outcome) {
  return outcome.ok ? outcome.body : { error: outcome.error, status: outcome.status };
}

module.exports = { callJson, callService, resultEntry, DownstreamError };

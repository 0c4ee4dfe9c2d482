'use strict';

// POST /test, the endpoint the W3C Trace Context test suite drives: for each
// {"url", "arguments"} of the body, in order, POST `arguments` as JSON to
// `url`, each call its own CLIENT span with the context propagated by the
// fetch instrumentation; answer [] once all calls are done.

const express = require('express');
const { strictRouter, serve } = require('./strict-router');
const { callJson, failedCallFields } = require('../downstream');
const { HttpError, badRequest } = require('../http-errors');
const { bodyDeadline } = require('../middleware/body-deadline');

// Each call may wait out the full downstream timeout: a bounded list keeps
// one request from holding the service for long (docs/contract.md).
const MAX_CALLS = 32;
// 64 KiB (body-parser reads "kb" as 1024 bytes); larger -> 413 body_too_large.
const MAX_BODY = '64kb';
const MAX_BODY_BYTES = 64 * 1024;

// A Content-Length over the limit is refused at once and the connection closed:
// body-parser would first wait for the whole body (up to the body deadline)
// only to discard it.
function refuseDeclaredOversize(req, res, next) {
  if (Number(req.headers['content-length']) > MAX_BODY_BYTES) {
    res.set('Connection', 'close');
    throw new HttpError(413, 'body_too_large', 'request body is larger than 64 KiB');
  }
  next();
}

// An http(s) URL without credentials: fetch refuses them and requests cannot
// encode every one, so all three services refuse such a URL
// (docs/contract.md, "Input rules").
function isCallableUrl(value) {
  if (typeof value !== 'string') {
    return false;
  }
  try {
    const url = new URL(value);
    return ['http:', 'https:'].includes(url.protocol) && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

/** The list of calls the body asks for; 400 invalid_body when malformed. */
function parseCalls(body) {
  const valid =
    Array.isArray(body) &&
    body.every((entry) => entry !== null && typeof entry === 'object' && isCallableUrl(entry.url) && Array.isArray(entry.arguments));
  if (!valid) {
    throw badRequest('invalid_body', 'body must be a JSON array of {"url": "http(s)://...", "arguments": [...]}, no url with credentials');
  }
  if (body.length > MAX_CALLS) {
    throw badRequest('invalid_body', `at most ${MAX_CALLS} calls per request`);
  }
  return body.map((entry) => ({ url: entry.url, json: entry.arguments }));
}

function conformanceRoutes(config, logger, guard) {
  const router = strictRouter();
  serve(router, 'POST', '/test', guard, refuseDeclaredOversize, bodyDeadline(), express.json({ limit: MAX_BODY }), async (req, res) => {
    const calls = parseCalls(req.body);
    for (const { url, json } of calls) {
      const outcome = await callJson(url, {
        method: 'POST',
        json,
        xTraceId: res.locals.xTraceId,
        hopCount: res.locals.hopCount,
        timeoutMs: config.downstreamTimeoutMs,
      });
      if (!outcome.ok) {
        // The suite judges the propagated headers, not the answers; a failed
        // call is worth a line but does not fail the request.
        logger.warn(failedCallFields(url, outcome), 'conformance call failed');
      }
    }
    res.status(200).json([]);
  });
  return router;
}

module.exports = { conformanceRoutes, parseCalls };

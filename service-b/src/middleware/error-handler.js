'use strict';

// Every failure ends here and leaves as the contract's JSON error body
// ({service, trace_id, otel_trace_id, error, message}). For 5xx answers the
// server span gets the exception event, ERROR status and error.type of the
// failure behind it; 4xx answers are the client's problem, not the span's.

const { HttpError } = require('../http-errors');
const { sendError } = require('../respond');
const { recordServerFailure } = require('../telemetry/server-span');

// Client errors raised by the JSON body parser (body-parser's error types),
// answered as the contract's body rule says: too large -> 413, anything else
// about the body (not JSON, unsupported encoding or charset, cut short) -> 400.
const BODY_ERRORS = {
  'entity.too.large': [413, 'body_too_large', 'request body is larger than 64 KiB'],
  'entity.parse.failed': [400, 'invalid_body', 'request body is not valid JSON'],
  'encoding.unsupported': [400, 'invalid_body', 'request body encoding is not supported'],
  'charset.unsupported': [400, 'invalid_body', 'request body charset is not supported'],
  'request.aborted': [400, 'invalid_body', 'request body ended early'],
  'request.size.invalid': [400, 'invalid_body', 'request body does not match its Content-Length'],
};

function toHttpError(error) {
  if (error instanceof HttpError) {
    return error;
  }
  if (Object.hasOwn(BODY_ERRORS, error.type)) {
    const [status, code, message] = BODY_ERRORS[error.type];
    return new HttpError(status, code, message);
  }
  const status = error.status ?? error.statusCode;
  if (Number.isInteger(status) && status >= 400 && status < 500) {
    return new HttpError(status, 'bad_request', 'malformed request');
  }
  return new HttpError(500, 'internal_error', 'unexpected error', { cause: error });
}

function errorHandler(logger) {
  // Express recognises error handlers by their four parameters.
  return function answerWithJson(error, _req, res, _next) {
    const httpError = toHttpError(error);
    if (httpError.status >= 500) {
      const failure = httpError.cause ?? httpError;
      recordServerFailure(res, failure, failure.errorType ?? failure.name);
      if (!(error instanceof HttpError)) {
        logger.error({ err: error }, 'unexpected error');
      }
    }
    if (res.headersSent) {
      // Too late for a JSON answer. Not handed on to Express's default
      // handler, which would print a raw stack trace to stderr.
      res.destroy();
      return;
    }
    sendError(res, httpError.status, httpError.code, httpError.message, httpError.details);
  };
}

function notFound() {
  return function answerNotFound(_req, res) {
    sendError(res, 404, 'not_found', 'no route for this method and path');
  };
}

module.exports = { errorHandler, notFound, toHttpError };

'use strict';

// Every failure ends here and leaves as the contract's JSON error body
// ({service, trace_id, otel_trace_id, error, message}). For 5xx answers the
// server span gets the exception event, ERROR status and error.type of the
// failure behind it; 4xx answers are the client's problem, not the span's.

const { HttpError } = require('../http-errors');
const { sendError } = require('../respond');
const { recordServerFailure } = require('../telemetry/server-span');

// Client errors raised by Express itself and its body parser.
const CLIENT_ERROR_CODES = {
  'entity.parse.failed': ['invalid_json', 'request body is not valid JSON'],
  'entity.too.large': ['payload_too_large', 'request body is too large'],
  'encoding.unsupported': ['unsupported_encoding', 'request body encoding is not supported'],
};

function toHttpError(error) {
  if (error instanceof HttpError) {
    return error;
  }
  const status = error.status ?? error.statusCode;
  if (Number.isInteger(status) && status >= 400 && status < 500) {
    const [code, message] = CLIENT_ERROR_CODES[error.type] ?? ['bad_request', 'malformed request'];
    return new HttpError(status, code, message);
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

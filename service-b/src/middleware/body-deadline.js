'use strict';

// A request body that stops arriving (a Content-Length larger than what is
// sent, a chunked body without its last chunk) would keep the body parser
// waiting until Node's requestTimeout. The contract reads a body for
// at most 10 s, then answers 400 invalid_body and closes the connection, so
// a stuck client costs one socket for 10 s and never a hang.
// Not server.requestTimeout: it counts from the request's first byte (the
// contract starts the body's 10 s after the head), and answers outside the
// request's trace context, so the JSON error would lose its otel_trace_id.

const { sendError } = require('../respond');

const BODY_READ_LIMIT_MS = 10000;

function bodyDeadline(limitMs = BODY_READ_LIMIT_MS) {
  return function limitBodyReading(req, res, next) {
    if (req.complete) {
      next();
      return;
    }
    const timer = setTimeout(() => {
      if (req.complete || res.headersSent) {
        return;
      }
      // Connection: close makes Node end the socket after the answer; the
      // body parser then sees the request aborted, and the error handler
      // leaves the already-sent answer alone.
      res.set('Connection', 'close');
      sendError(res, 400, 'invalid_body', `request body not received within ${limitMs} ms`);
    }, limitMs);
    const clear = () => clearTimeout(timer);
    req.once('end', clear);
    res.once('close', clear);
    next();
  };
}

module.exports = { bodyDeadline, BODY_READ_LIMIT_MS };

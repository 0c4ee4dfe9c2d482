'use strict';

// Requests Node's HTTP server refuses before the app sees them: the parser
// cannot read them ('clientError': a byte it does not allow in the request
// line or a header, a malformed header, more header bytes than it takes, a
// request that did not arrive in time), or they expect what Node cannot do
// ('checkExpectation': an Expect other than 100-continue). Node answers those
// with an empty 4xx and logs nothing; here they get the contract's JSON error
// and one `request completed` line (docs/contract.md, "Errors are JSON").
// No server span exists for them: the body has no otel_trace_id, and its
// trace_id is a fresh X-Trace-ID. The client's bytes are never quoted.

const { STATUS_CODES } = require('node:http');
const { mintXTraceId } = require('./middleware/x-trace-id');

// Node's own status for each parser error (its default 'clientError'
// answer); any other parser error is a 400.
const PARSER_REFUSALS = {
  HPE_HEADER_OVERFLOW: [431, 'headers_too_large', 'a header line or the header block is too large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'body_too_large', 'the chunk extensions are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request_timeout', 'the request did not arrive in time'],
};
const MALFORMED = [400, 'bad_request', 'malformed request'];
const EXPECTATION_FAILED = [417, 'expectation_failed', 'only Expect: 100-continue is supported'];

function refusal(serviceName, [status, code, message]) {
  const xTraceId = mintXTraceId();
  const body = JSON.stringify({ service: serviceName, trace_id: xTraceId, error: code, message });
  const headers = {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'X-Trace-ID': xTraceId,
    Connection: 'close',
  };
  return { status, xTraceId, headers, body };
}

/** The raw HTTP/1.1 message of `answer`, for a socket that has no response object. */
function rawMessage({ status, headers, body }) {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return [`HTTP/1.1 ${status} ${STATUS_CODES[status]}`, ...lines, '', body].join('\r\n');
}

function answerProtocolRefusals(server, { serviceName, logger }) {
  // The response each connection is writing, if any. A parser error while
  // one is under way (a malformed body) ends that request: its own answer,
  // span and log line say what happened, and the connection just closes.
  const writing = new WeakMap();
  server.on('request', (request, response) => {
    writing.set(request.socket, response);
  });

  const log = (answer, fields) => {
    logger.warn({ ...fields, status: answer.status, duration_ms: 0, x_trace_id: answer.xTraceId },
      'request completed');
  };

  server.on('clientError', (error, socket) => {
    const busy = writing.get(socket);
    if (error.code === 'ECONNRESET' || !socket.writable || (busy && !busy.writableFinished)) {
      socket.destroy();
      return;
    }
    const answer = refusal(serviceName, PARSER_REFUSALS[error.code] ?? MALFORMED);
    socket.end(rawMessage(answer));
    // The parser stopped before method and path were known to be sound.
    log(answer, { method: '', route: '', error: error.code });
  });

  server.on('checkExpectation', (request, response) => {
    const answer = refusal(serviceName, EXPECTATION_FAILED);
    response.writeHead(answer.status, answer.headers).end(answer.body);
    log(answer, { method: request.method, route: request.url.split('?')[0] });
  });
}

module.exports = { answerProtocolRefusals };

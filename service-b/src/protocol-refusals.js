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
const { METHOD_NOT_IMPLEMENTED, VERSION_NOT_SUPPORTED } = require('./middleware/protocol-rules');
const { levelFor } = require('./middleware/request-log');

// Node's own status for each parser error (its default 'clientError'
// answer); any other parser error is a 400.
const PARSER_REFUSALS = {
  HPE_HEADER_OVERFLOW: [431, 'headers_too_large', 'a header line or the header block is too large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'body_too_large', 'the chunk extensions are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request_timeout', 'the request did not arrive in time'],
};
const MALFORMED = [400, 'bad_request', 'malformed request'];

// docs/contract.md, "Input rules": llhttp refuses every method outside its own
// list and every version but 0.9, 1.0, 1.1 and 2.0, each under one code for
// two cases. A method that is an HTTP token is one no service implements
// (501); one that is not makes the request line malformed (400). A version
// it read but does not serve ("Invalid HTTP version": HTTP/1.2, HTTP/3.0) is
// a 505; one it could not read ("HTTP/1.10") a malformed request line.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function contractRefusal(error) {
  if (error.code === 'HPE_INVALID_METHOD' && TOKEN.test(refusedMethod(error))) {
    return METHOD_NOT_IMPLEMENTED;
  }
  if (error.code === 'HPE_INVALID_VERSION' && error.reason === 'Invalid HTTP version') {
    return VERSION_NOT_SUPPORTED;
  }
  return undefined;
}

/** The method of the request llhttp stopped in: its line starts where the packet's line around the error does. */
function refusedMethod(error) {
  const packet = error.rawPacket?.toString('latin1') ?? '';
  const lineStart = packet.lastIndexOf('\n', Math.max(error.bytesParsed - 1, 0)) + 1;
  return packet.slice(lineStart).split(/[ \r\n]/, 1)[0];
}
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
    logger[levelFor(answer.status)]({ ...fields, status: answer.status, duration_ms: 0, x_trace_id: answer.xTraceId },
      'request completed');
  };

  server.on('clientError', (error, socket) => {
    const busy = writing.get(socket);
    if (error.code === 'ECONNRESET' || !socket.writable || (busy && !busy.writableFinished)) {
      socket.destroy();
      return;
    }
    const answer = refusal(serviceName, contractRefusal(error) ?? PARSER_REFUSALS[error.code] ?? MALFORMED);
    socket.end(rawMessage(answer));
    // The parser stopped before method and path were known to be sound.
    log(answer, { method: '', route: '', error: error.code });
  });

  // CONNECT asks for a tunnel, which these services, no proxies, do not
  // open: Node never hands it to the app, and closes the connection without
  // a word when nothing listens for 'connect'. It gets the 501 of any method
  // no service implements.
  server.on('connect', (request, socket) => {
    socket.on('error', () => socket.destroy()); // Node has let go of the socket
    const answer = refusal(serviceName, METHOD_NOT_IMPLEMENTED);
    socket.end(rawMessage(answer));
    log(answer, { method: request.method, route: '' });
  });

  server.on('checkExpectation', (request, response) => {
    const answer = refusal(serviceName, EXPECTATION_FAILED);
    response.writeHead(answer.status, answer.headers).end(answer.body);
    log(answer, { method: request.method, route: request.url.split('?')[0] });
  });
}

module.exports = { answerProtocolRefusals };

'use strict';

// CONNECT asks a server to open a tunnel. Node does not hand it to the app:
// it emits the server's 'connect' event, and closes the connection without a
// word when nothing listens. These services are no proxies, and
// docs/contract.md ("Input rules") answers CONNECT like any method no service
// implements: 501 not_implemented, in the contract's JSON error. Answered
// here, before the app, the request has no server span: the body has no
// otel_trace_id, and the log line comes from here.

const { ServerResponse } = require('node:http');
const { mintXTraceId } = require('./middleware/x-trace-id');
const { METHOD_NOT_IMPLEMENTED } = require('./middleware/protocol-rules');
const { levelFor } = require('./middleware/request-log');

function refuseConnect(server, { serviceName, logger }) {
  server.on('connect', (request, socket) => {
    // Node has let go of the socket: its errors are ours to catch.
    socket.on('error', () => socket.destroy());
    const response = new ServerResponse(request);
    // What follows on the connection would be the tunnel's bytes: it ends here.
    response.shouldKeepAlive = false;
    response.assignSocket(socket);
    response.on('finish', () => {
      response.detachSocket(socket);
      socket.destroySoon();
    });

    const [status, code, message] = METHOD_NOT_IMPLEMENTED;
    const xTraceId = mintXTraceId();
    const body = JSON.stringify({ service: serviceName, trace_id: xTraceId, error: code, message });
    response.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'X-Trace-ID': xTraceId,
    });
    response.end(body);
    // The target of a CONNECT is a host and port, not a route of this service.
    logger[levelFor(status)]({ method: request.method, route: '', status, duration_ms: 0, x_trace_id: xTraceId },
      'request completed');
  });
}

module.exports = { refuseConnect };

'use strict';

// A test HTTP client and throw-away servers.
//
// The client uses node:http, which can send repeated header lines (fetch
// merges them), and runs with tracing suppressed so the test's own requests
// neither create spans nor add a traceparent: what the service receives is
// exactly what the test wrote.

const http = require('node:http');
const { once } = require('node:events');
const { context } = require('@opentelemetry/api');
const { suppressTracing } = require('@opentelemetry/core');

function parseBody(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * headers: object whose values may be arrays (one line per element).
 * path: the request target exactly as sent (a URL string would be normalized,
 * e.g. "/./test" -> "/test").
 */
function send(url, { method = 'GET', headers = {}, body, path } = {}) {
  return context.with(suppressTracing(context.active()), () =>
    new Promise((resolve, reject) => {
      const options = { method, headers, agent: false, ...(path === undefined ? {} : { path }) };
      const request = http.request(url, options, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => {
          text += chunk;
        });
        response.on('end', () => {
          resolve({ status: response.statusCode, headers: response.headers, body: parseBody(text) });
        });
      });
      request.on('error', reject);
      request.end(body);
    }),
  );
}

/**
 * A local server answering with `respond(request) -> { status, body, delayMs }`;
 * records every request's headers (as received, repeated lines kept apart).
 */
async function startFakeServer(respond = () => ({ status: 200, body: {} })) {
  const received = [];
  const server = http.createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => {
      text += chunk;
    });
    request.on('end', () => {
      received.push({ url: request.url, method: request.method, headers: request.headersDistinct, body: parseBody(text) });
      const { status = 200, body = {}, delayMs = 0 } = respond(request);
      // Unref'd: an answer held longer than a test lasts must not keep the
      // test process alive once the server is closed.
      setTimeout(() => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      }, delayMs).unref();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    received,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * A loopback URL where nothing listens (connections are refused): a port the
 * OS just handed out and that was released again. Not port 9: fetch refuses
 * that "bad port" before even trying, so no CLIENT span would exist.
 */
async function refusedUrl() {
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

module.exports = { send, startFakeServer, refusedUrl };

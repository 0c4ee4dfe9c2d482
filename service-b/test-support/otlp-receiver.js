'use strict';

// A stand-in for the Collector's OTLP/HTTP receiver: it answers the statuses
// of `script` first, then 200, and keeps the raw body of every request
// (protobuf, so bytes, not text).

const http = require('node:http');
const { once } = require('node:events');

async function startOtlpReceiver(script = []) {
  const answers = [...script];
  const bodies = [];
  const server = http.createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      bodies.push(Buffer.concat(chunks));
      const status = answers.shift() ?? 200;
      response.writeHead(status, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${server.address().port}/v1/traces`,
    bodies,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

module.exports = { startOtlpReceiver };

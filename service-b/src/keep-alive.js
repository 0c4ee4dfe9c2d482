'use strict';

// Keep-alive policy (docs/contract.md, "Keep-alive connections").

// Longer than any caller's pool keeps an idle connection (nginx and
// service-a 60 s, fetch 4 s), so the caller lets go first and never sends a
// request on a connection this server is closing.
const IDLE_TIMEOUT_MS = 75000;

/**
 * Keeps idle connections IDLE_TIMEOUT_MS and closes a connection once it has
 * answered `maxRequestsPerConnection` requests (0: no limit), so callers
 * reconnect, resolve the name again and spread over replicas.
 */
function applyKeepAlivePolicy(server, { maxRequestsPerConnection }) {
  server.keepAliveTimeout = IDLE_TIMEOUT_MS;
  server.maxRequestsPerSocket = maxRequestsPerConnection;
  // Node marks the last answer "Connection: close" but, as documented, leaves
  // the socket open for the client to close; the header set here makes Node
  // end it after that answer, as RFC 9112 (section 9.6) asks of a server.
  // maxRequestsOnConnectionReached is Node's own flag for that answer, not
  // documented: tests/e2e/test_55_keep_alive.py fails if a Node release drops it.
  server.prependListener('request', (_request, response) => {
    if (response.maxRequestsOnConnectionReached) {
      response.setHeader('Connection', 'close');
    }
  });
}

module.exports = { applyKeepAlivePolicy, IDLE_TIMEOUT_MS };

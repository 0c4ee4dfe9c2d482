'use strict';

// Every route of the service is declared through here, so the contract's
// "Input rules" for method and path hold for all of them:
// - exactly one spelling per path: Express routers ignore case and a
//   trailing slash unless created case-sensitive and strict;
// - a known path answers only its method (HEAD wherever GET is served) and
//   refuses the others with 405 and `Allow`. Because every known path handles
//   all methods, Express's automatic OPTIONS answer never happens: OPTIONS
//   gets the 405 too.

const { Router } = require('express');
const { HttpError } = require('../http-errors');

const ROUTER_OPTIONS = Object.freeze({ caseSensitive: true, strict: true });

function strictRouter() {
  return Router(ROUTER_OPTIONS);
}

// Express answers HEAD with the GET handler (the body is dropped).
function allowedMethods(method) {
  const upper = method.toUpperCase();
  return upper === 'GET' ? ['GET', 'HEAD'] : [upper];
}

function refuseOtherMethods(allowed) {
  const allow = allowed.join(', ');
  return function methodNotAllowed(req, res) {
    res.set('Allow', allow);
    throw new HttpError(405, 'method_not_allowed', `${req.method} is not served here; allowed: ${allow}`);
  };
}

/** Declares `method path` on `router` with its handlers, and 405 for any other method. */
function serve(router, method, path, ...handlers) {
  router
    .route(path)
    [method.toLowerCase()](...handlers)
    .all(refuseOtherMethods(allowedMethods(method)));
  return router;
}

module.exports = { strictRouter, serve, allowedMethods, ROUTER_OPTIONS };

'use strict';

// docs/contract.md, "Input rules": before routing, refuse what no route could
// serve. Node's parser (llhttp) already refuses methods outside its own list
// and most versions; what it lets through is refused here: HTTP/2.0 and
// HTTP/0.9 request lines, and the methods it knows that no service
// implements (WebDAV's and others).

const { HttpError } = require('../http-errors');

// RFC 9110's methods and PATCH. CONNECT is not one: it asks a proxy for a
// tunnel, and Node hands it to the server's 'connect' listener instead
// (protocol-refusals.js).
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH']);

const VERSION_NOT_SUPPORTED = [505, 'http_version_not_supported', 'only HTTP/1.0 and HTTP/1.1 are served'];
const METHOD_NOT_IMPLEMENTED = [501, 'not_implemented', 'this method is not implemented by any route'];

class HttpVersionNotSupported extends Error {
  constructor(version) {
    super(`HTTP/${version} is not served`);
    this.name = 'HttpVersionNotSupported';
  }
}

class MethodNotImplemented extends Error {
  constructor(method) {
    super(`${method} is not implemented`);
    this.name = 'MethodNotImplemented';
  }
}

function refusal([status, code, message], cause) {
  return new HttpError(status, code, message, { cause });
}

function protocolRules() {
  return function enforceProtocol(req, _res, next) {
    if (req.httpVersionMajor !== 1 || req.httpVersionMinor > 1) {
      throw refusal(VERSION_NOT_SUPPORTED, new HttpVersionNotSupported(req.httpVersion));
    }
    if (!KNOWN_METHODS.has(req.method)) {
      throw refusal(METHOD_NOT_IMPLEMENTED, new MethodNotImplemented(req.method));
    }
    next();
  };
}

module.exports = { protocolRules, VERSION_NOT_SUPPORTED, METHOD_NOT_IMPLEMENTED };

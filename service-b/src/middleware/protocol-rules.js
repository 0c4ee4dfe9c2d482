'use strict';

// docs/contract.md, "Input rules": before routing, refuse what no route could
// serve. Node's parser (llhttp) already refuses methods outside its own list
// and most versions; what it lets through is refused here: HTTP/2.0 and
// HTTP/0.9 request lines, and the methods it knows that no service
// implements (WebDAV's and others). And the Host rule: Node's own answer to
// an HTTP/1.1 request without Host is an empty 400 with no event to hook, so
// the server leaves it to the app (HTTP_SERVER_OPTIONS).

const { HttpError } = require('../http-errors');

// RFC 9110's methods and PATCH. CONNECT is not one: it asks a proxy for a
// tunnel, and Node hands it to the server's 'connect' listener instead
// (protocol-refusals.js).
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH']);

// For http.createServer: the missing Host is refused here, in JSON.
const HTTP_SERVER_OPTIONS = { requireHostHeader: false };

// The bytes of RFC 3986's host and port, as Go's net/http checks them
// (httpguts.ValidHostHeader); empty is a Host too.
const HOST = /^[0-9A-Za-z!$%&'()*+,\-.:;=[\]_~]*$/;

const MALFORMED = [400, 'bad_request', 'malformed request'];
const VERSION_NOT_SUPPORTED = [505, 'http_version_not_supported', 'only HTTP/1.0 and HTTP/1.1 are served'];
const METHOD_NOT_IMPLEMENTED = [501, 'not_implemented', 'this method is not implemented by any route'];

class HttpVersionNotSupported extends Error {
  constructor(version) {
    super(`HTTP/${version} is not served`);
    this.name = 'HttpVersionNotSupported';
  }
}

class InvalidHost extends Error {
  constructor() {
    super('no Host, more than one, or one that names no host');
    this.name = 'InvalidHost';
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

/** One Host line (req.headers keeps only the first), required in HTTP/1.1. */
function hostIsValid(req) {
  const hosts = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i].toLowerCase() === 'host') hosts.push(req.rawHeaders[i + 1]);
  }
  if (hosts.length === 0) return req.httpVersionMinor === 0; // HTTP/1.0 needs none
  return hosts.length === 1 && HOST.test(hosts[0]);
}

function protocolRules() {
  return function enforceProtocol(req, _res, next) {
    if (req.httpVersionMajor !== 1 || req.httpVersionMinor > 1) {
      throw refusal(VERSION_NOT_SUPPORTED, new HttpVersionNotSupported(req.httpVersion));
    }
    if (!hostIsValid(req)) {
      throw refusal(MALFORMED, new InvalidHost());
    }
    if (!KNOWN_METHODS.has(req.method)) {
      throw refusal(METHOD_NOT_IMPLEMENTED, new MethodNotImplemented(req.method));
    }
    next();
  };
}

module.exports = { protocolRules, HTTP_SERVER_OPTIONS, VERSION_NOT_SUPPORTED, METHOD_NOT_IMPLEMENTED };

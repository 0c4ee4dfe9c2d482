"""The input rules of docs/contract.md that come before routing: the HTTP
version of the request line and a method some route could serve.

gunicorn refuses most versions and unconventional methods itself (see
protocol_refusals.py at the top of service-c); what it lets through is refused
here, from the WSGI environ: `HTTP/1.2` (gunicorn serves any 1.x) and
methods no service implements (`CONNECT`, WebDAV's, any unknown token).
"""

from __future__ import annotations

from app.errors import HttpVersionNotSupported, MethodNotImplemented

SERVED_VERSIONS = frozenset({"HTTP/1.0", "HTTP/1.1"})
# RFC 9110's methods and PATCH. CONNECT is not one: it asks a proxy for a
# tunnel, and these services are no proxies.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH"})

VERSION_NOT_SUPPORTED_MESSAGE = "only HTTP/1.0 and HTTP/1.1 are served"
METHOD_NOT_IMPLEMENTED_MESSAGE = "this method is not implemented by any route"


def enforce_protocol(environ: dict) -> None:
    if environ.get("SERVER_PROTOCOL") not in SERVED_VERSIONS:
        raise HttpVersionNotSupported(VERSION_NOT_SUPPORTED_MESSAGE)
    if environ.get("REQUEST_METHOD") not in KNOWN_METHODS:
        raise MethodNotImplemented(METHOD_NOT_IMPLEMENTED_MESSAGE)

"""The input rules of docs/contract.md that come before routing: the HTTP
version of the request line, its Host and a method some route could serve.

gunicorn refuses most versions and unconventional methods itself (see
server/protocol_refusals.py); what it lets through is refused here, from the
WSGI environ: `HTTP/1.2` (gunicorn serves any 1.x) and methods no service
implements (`CONNECT`, WebDAV's, any unknown token), and an HTTP/1.1
request without Host or with a Host byte Go's net/http refuses (gunicorn
refuses a second Host line itself).
"""

from __future__ import annotations

import re

from app.errors import BadRequest, HttpVersionNotSupported, MethodNotImplemented

SERVED_VERSIONS = frozenset({"HTTP/1.0", "HTTP/1.1"})
# RFC 9110's methods and PATCH. CONNECT is not one: it asks a proxy for a
# tunnel, and these services are no proxies.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH"})

# The bytes of RFC 3986's host and port, as Go's net/http checks them
# (httpguts.ValidHostHeader); empty is a Host too.
_HOST = re.compile(r"[0-9A-Za-z!$%&'()*+,\-.:;=\[\]_~]*")

VERSION_NOT_SUPPORTED_MESSAGE = "only HTTP/1.0 and HTTP/1.1 are served"
METHOD_NOT_IMPLEMENTED_MESSAGE = "this method is not implemented by any route"


def enforce_protocol(environ: dict) -> None:
    if environ.get("SERVER_PROTOCOL") not in SERVED_VERSIONS:
        raise HttpVersionNotSupported(VERSION_NOT_SUPPORTED_MESSAGE)
    # CONNECT gets its 501 whatever its Host, as in Go and Node.
    if environ.get("REQUEST_METHOD") != "CONNECT" and not _host_is_valid(environ):
        raise BadRequest("malformed request")
    if environ.get("REQUEST_METHOD") not in KNOWN_METHODS:
        raise MethodNotImplemented(METHOD_NOT_IMPLEMENTED_MESSAGE)


def _host_is_valid(environ: dict) -> bool:
    host = environ.get("HTTP_HOST")
    if host is None:
        return environ["SERVER_PROTOCOL"] != "HTTP/1.1"  # HTTP/1.0 needs none
    return _HOST.fullmatch(host) is not None

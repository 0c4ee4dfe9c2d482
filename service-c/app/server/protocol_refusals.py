"""Requests gunicorn refuses before the app sees them, answered in JSON.

gunicorn answers a request it cannot parse (a byte it does not allow in the
request line or a header, a malformed or oversized header, an Expect it
cannot meet) with an HTML page that quotes the request line, and logs that
line again. Its workers do both in one method, Worker.handle_error; this
worker class (gunicorn.conf.py) overrides it to send the contract's JSON
error and write one `request completed` line instead (docs/contract.md,
"Errors are JSON"). Two of those refusals are input rules with answers of
their own: a well-formed version outside 1.x (HTTP/2.0, HTTP/0.9) is 505, and
a token method against gunicorn's conventions (lower case, under 3 or over
20 characters) one no service implements, 501 (app/protocol_rules.py refuses
what gunicorn lets through). Such a request has no server span: the body has no
otel_trace_id, and its trace_id is a fresh X-Trace-ID. The client's bytes
are never quoted.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from http import HTTPStatus

from gunicorn import util
from gunicorn.http import errors
from gunicorn.workers.gthread import ThreadWorker

from app.config import Settings
from app.protocol_rules import METHOD_NOT_IMPLEMENTED_MESSAGE, VERSION_NOT_SUPPORTED_MESSAGE
from app.request_context import mint_x_trace_id
from app.logging_config import bind_x_trace_id, unbind_x_trace_id



class RequestTimeout(Exception):
    """A request head that did not arrive in time (request_buffering.py; gunicorn itself sets no such limit)."""


_FAILED = (500, "internal_error", "the service failed to handle the request")
# gunicorn's own status for each refusal (gunicorn/workers/base.py), first
# match wins; any other parse error is the client's (400), anything else a
# failure of the service (500).
_REFUSALS = (
    ((errors.InvalidResponseHeader, errors.InvalidResponseHeaderName, errors.ConfigurationProblem), _FAILED),
    (RequestTimeout, (408, "request_timeout", "the request did not arrive in time")),
    (errors.LimitRequestLine, (414, "uri_too_long", "the request line is too long")),
    (errors.LimitRequestHeaders, (431, "headers_too_large", "a header line or the header block is too large")),
    (errors.UnsupportedTransferCoding, (501, "not_implemented", "unsupported transfer coding")),
    (errors.ExpectationFailed, (417, "expectation_failed", "only Expect: 100-continue is supported")),
    (errors.ParseException, (400, "bad_request", "malformed request")),
)

_VERSION_NOT_SUPPORTED = (505, "http_version_not_supported", VERSION_NOT_SUPPORTED_MESSAGE)
_METHOD_NOT_IMPLEMENTED = (501, "not_implemented", METHOD_NOT_IMPLEMENTED_MESSAGE)
# RFC 9110's token: a method that is none makes the request line malformed (400).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

_log = logging.getLogger("service_c.request")


def refusal_for(exc: BaseException) -> tuple[int, str, str]:
    """(status, error code, message) of the answer to a request that failed with `exc`."""
    # gunicorn passes the parsed (major, minor) of a well-formed version it
    # does not serve, and the text of one it could not parse.
    if isinstance(exc, errors.InvalidHTTPVersion) and isinstance(exc.version, tuple):
        return _VERSION_NOT_SUPPORTED
    if isinstance(exc, errors.InvalidRequestMethod) and _TOKEN.fullmatch(str(exc.method)):
        return _METHOD_NOT_IMPLEMENTED
    return next((answer for kinds, answer in _REFUSALS if isinstance(exc, kinds)), _FAILED)


@functools.cache
def _service_name() -> str:
    return Settings.from_env().service_name


def json_error(status: int, code: str, message: str, x_trace_id: str) -> bytes:
    """The whole HTTP/1.1 answer; the connection closes after it, as after gunicorn's page."""
    body = json.dumps({"service": _service_name(), "trace_id": x_trace_id, "error": code, "message": message})
    head = (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"X-Trace-ID: {x_trace_id}\r\n"
            "Connection: close\r\n\r\n")
    return (head + body).encode("ascii")


class JsonErrorWorker(ThreadWorker):
    """gunicorn's gthread worker, with JSON answers to the requests it refuses."""

    def handle_error(self, req, client, addr, exc):
        status, code, message = refusal_for(exc)
        x_trace_id = mint_x_trace_id()
        binding = bind_x_trace_id(x_trace_id)
        try:
            # The parser stopped before method and path were known to be sound.
            # A failure of the service's own carries its traceback.
            _log.log(logging.ERROR if status >= 500 else logging.WARNING, "request completed",
                     exc_info=exc if (status, code, message) == _FAILED else None,
                     extra={"method": "", "route": "", "status": status, "duration_ms": 0,
                            "error": type(exc).__name__})
        finally:
            unbind_x_trace_id(binding)
        try:
            util.write_nonblock(client, json_error(status, code, message, x_trace_id))
        except OSError:
            self.log.debug("the client left before its error answer")

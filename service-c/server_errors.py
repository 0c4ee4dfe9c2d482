"""Requests gunicorn refuses before the app, answered as the app would.

gunicorn parses the request line itself and answers what it refuses with an
HTML 400 page and no log line of ours. Two of those refusals are input rules
of docs/contract.md with answers of their own: a well-formed version outside
1.x (`HTTP/2.0`, `HTTP/0.9`) is 505 `http_version_not_supported`, and a
method that is an HTTP token but breaks gunicorn's conventions (lower case,
under 3 or over 20 characters, a `#`) is a method no service implements, 501
`not_implemented`. This module wraps the worker's `handle_error`, the one
place gunicorn writes those answers, and writes the contract's JSON error
instead; anything else goes on to gunicorn's own answer.

No span exists yet: the body has no otel_trace_id, and its X-Trace-ID is a
new one, on the one `request completed` line it gets.
"""

from __future__ import annotations

import json
import logging
import re

from gunicorn import util
from gunicorn.http.errors import InvalidHTTPVersion, InvalidRequestMethod

from app.config import Settings
from app.protocol_rules import METHOD_NOT_IMPLEMENTED_MESSAGE, VERSION_NOT_SUPPORTED_MESSAGE
from app.request_context import X_TRACE_ID, mint_x_trace_id
from logging_config import bind_x_trace_id, unbind_x_trace_id

_log = logging.getLogger("service_c.request")

# RFC 9110's token: what a method must be at all. A request line whose method
# is none is malformed, a 400, and left to gunicorn.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

_REASONS = {501: "Not Implemented", 505: "HTTP Version Not Supported"}


def answer_as_the_app(worker) -> None:
    """Wrap `worker.handle_error` (call from post_worker_init)."""
    handle_error = worker.handle_error
    service = Settings.from_env().service_name

    def handle_error_as_json(req, client, addr, exc) -> None:
        answer = _contract_answer(exc)
        if answer is None:
            handle_error(req, client, addr, exc)
            return
        status, code, message = answer
        x_trace_id = mint_x_trace_id()
        binding = bind_x_trace_id(x_trace_id)
        try:
            _log.error("request completed", extra={
                "method": getattr(exc, "method", ""), "route": "", "status": status, "error": code,
                "duration_ms": 0.0})
        finally:
            unbind_x_trace_id(binding)
        body = json.dumps({"service": service, "trace_id": x_trace_id, "error": code, "message": message})
        try:
            util.write_nonblock(client, _http_message(status, x_trace_id, body.encode()))
        except OSError:
            pass  # the client has gone: nothing to answer

    worker.handle_error = handle_error_as_json


def _contract_answer(exc: BaseException) -> tuple[int, str, str] | None:
    # gunicorn passes the parsed (major, minor) of a well-formed version it
    # does not serve, and the text of one it could not parse.
    if isinstance(exc, InvalidHTTPVersion) and isinstance(exc.version, tuple):
        return 505, "http_version_not_supported", VERSION_NOT_SUPPORTED_MESSAGE
    if isinstance(exc, InvalidRequestMethod) and _TOKEN.fullmatch(str(exc.method)):
        return 501, "not_implemented", METHOD_NOT_IMPLEMENTED_MESSAGE
    return None


def _http_message(status: int, x_trace_id: str, body: bytes) -> bytes:
    head = (f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
            "Content-Type: application/json\r\n"
            f"{X_TRACE_ID}: {x_trace_id}\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n")
    return head.encode("ascii") + body

"""Every error becomes a contract error body: {service, trace_id, otel_trace_id, error, message}.

A 5xx also marks the server span failed here, where the exception is still
in hand: exception event, `error.type` and status ERROR (span hygiene; the
Flask instrumentation only sees a status code, not the exception).
4xx answers are the client's problem and leave the span unset, as
scenarios.json expects for 401 and 429.
"""

from __future__ import annotations

import logging

from flask import Flask, Response
from opentelemetry import trace
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.trace import Status, StatusCode
from werkzeug.exceptions import ClientDisconnected, HTTPException

from app.errors import ApiError
from app.responses import error_response

_log = logging.getLogger(__name__)

# Machine codes for the errors Werkzeug raises itself (routing, body size, ...).
_HTTP_ERROR_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def mark_span_failed(error: BaseException) -> None:
    # With the stable HTTP conventions the Flask instrumentation replaces this
    # error.type with the status code ("500") when the response starts
    # (docs/contract.md, "Spans"); the exception event keeps the class and
    # message either way.
    span = trace.get_current_span()
    span.record_exception(error)
    span.set_attribute(ERROR_TYPE, type(error).__qualname__)
    span.set_status(Status(StatusCode.ERROR, str(error)))


def _api_error(error: ApiError) -> Response:
    if error.status >= 500:
        mark_span_failed(error)
    return error_response(error.status, error.code, error.message, headers=error.headers, **error.body)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if status >= 500:
        mark_span_failed(error)
    # Keep headers such as `Allow` on a 405; the body is ours, so not its content type.
    headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
    # A body that ended before its Content-Length, or whose framing is broken,
    # is a ClientDisconnected (raised by Werkzeug and by server/body_deadline.py): the
    # contract's `invalid_body`, not a generic `bad_request`.
    if isinstance(error, ClientDisconnected):
        code = "invalid_body"
    else:
        code = _HTTP_ERROR_CODES.get(status, f"http_{status}")
    return error_response(status, code, error.description or error.name, headers=headers)


def _unexpected_error(error: Exception) -> Response:
    _log.error("unhandled exception", exc_info=error)
    mark_span_failed(error)
    return error_response(500, "internal_error", "internal server error")

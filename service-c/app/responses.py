"""JSON bodies with the fields every response carries (docs/contract.md, "Endpoints")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, g, jsonify
from opentelemetry import trace

from app.config import current_settings


def current_otel_trace_id() -> str:
    """32-hex trace id of the server span serving this request."""
    return trace.format_trace_id(trace.get_current_span().get_span_context().trace_id)


def json_response(fields: Mapping[str, Any], *, http_status: int = 200,
                  headers: Mapping[str, str] | None = None) -> Response:
    """`fields` plus service, trace_id (X-Trace-ID) and otel_trace_id."""
    response = jsonify({
        "service": current_settings().service_name,
        "trace_id": g.get("x_trace_id", ""),
        "otel_trace_id": current_otel_trace_id(),
        **fields,
    })
    response.status_code = http_status
    response.headers.update(headers or {})
    return response


def error_response(http_status: int, error: str, message: str, *,
                   headers: Mapping[str, str] | None = None, **fields: Any) -> Response:
    return json_response({"error": error, "message": message, **fields}, http_status=http_status, headers=headers)

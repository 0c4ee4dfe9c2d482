"""Failures a handler raises; app/error_handlers.py turns each into a JSON response.

Each class fixes the HTTP status and the machine code of the contract's error
body. The class name is what the `exception` event of a 5xx server span shows.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None, **body: Any) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}
        self.body = body  # extra fields of the JSON error body, e.g. `results`


class BadRequest(ApiError):
    status = 400
    code = "bad_request"


class InvalidParameter(ApiError):
    status = 400
    code = "invalid_parameter"


class InvalidHopCount(ApiError):
    status = 400
    code = "invalid_hop_count"


class InvalidBody(ApiError):
    status = 400
    code = "invalid_body"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"
    retry_after_seconds = 30

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"Retry-After": str(self.retry_after_seconds)})


class SimulatedFailure(ApiError):
    status = 500
    code = "simulated_failure"


class DownstreamFailure(ApiError):
    """A call to another service failed; `results`, when given, says how."""

    status = 502
    code = "downstream_error"


class DependencyUnavailable(DownstreamFailure):
    code = "dependency_unavailable"


class MethodNotImplemented(ApiError):
    status = 501
    code = "not_implemented"


class HttpVersionNotSupported(ApiError):
    status = 505
    code = "http_version_not_supported"


class LoopDetected(ApiError):
    status = 508
    code = "loop_detected"

"""Outbound HTTP calls: other services, the external dependency, POST /test targets.

Trace context is NOT added here: the requests instrumentation opens a CLIENT
span around each call and writes `traceparent`/`tracestate` into it. This
client only adds the business headers (X-Trace-ID, X-Hop-Count) and the
per-call timeout, and turns every outcome into a CallResult instead of an
exception, so callers decide what a failure means for their own answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
from flask import Flask, current_app

_EXTENSION_KEY = "service_c.downstream"


@dataclass(frozen=True)
class Hop:
    """What an outbound call carries over from the incoming request."""

    x_trace_id: str
    incoming_hop_count: int

    def headers(self) -> dict[str, str]:
        return {"X-Trace-ID": self.x_trace_id, "X-Hop-Count": str(self.incoming_hop_count + 1)}


@dataclass(frozen=True)
class CallResult:
    status: int | None  # None: no response (timeout, refused connection)
    body: Any  # the JSON body, or None when there was none
    # None on success; else the callee's own error code from its JSON body, or
    # "timeout", "unreachable", "bad_status" (the same codes service-a and -b use).
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_result_entry(self) -> Any:
        """The value a fan-out endpoint puts under `results` for this call."""
        return self.body if self.ok else {"error": self.error, "status": self.status}


class DownstreamClient:
    def __init__(self, timeout_ms: int) -> None:
        seconds = timeout_ms / 1000
        # (connect, read), each DOWNSTREAM_TIMEOUT_MS. requests has no total
        # deadline: the read timeout bounds every wait for the next bytes, so
        # a callee that keeps trickling data can stretch one call beyond it.
        self._timeout = (seconds, seconds)
        # One pooled session per worker process, shared by every request it
        # serves. Its cookie jar would be shared too: a cookie one request's
        # callee sets (POST /test and EXTERNAL_DEPENDENCY_URL reach any URL)
        # would go out with another request's calls, so it accepts none.
        self._session = requests.Session()
        self._session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))

    def install(self, app: Flask) -> None:
        app.extensions[_EXTENSION_KEY] = self

    def get(self, url: str, hop: Hop) -> CallResult:
        return self._call("GET", url, hop)

    def post_json(self, url: str, payload: Any, hop: Hop) -> CallResult:
        return self._call("POST", url, hop, json=payload)

    def _call(self, method: str, url: str, hop: Hop, **kwargs: Any) -> CallResult:
        try:
            response = self._session.request(method, url, headers=hop.headers(), timeout=self._timeout, **kwargs)
        # A call that reached the transport has its exception on its CLIENT
        # span already (requests instrumentation); callers need only the kind.
        except requests.Timeout:
            return CallResult(status=None, body=None, error="timeout")
        except requests.ConnectionError:
            return CallResult(status=None, body=None, error="unreachable")
        except requests.RequestException as error:
            return CallResult(status=None, body=None, error=type(error).__name__)
        body = _json_or_none(response)
        if response.status_code >= 400:
            return CallResult(status=response.status_code, body=body, error=_error_code(body))
        return CallResult(status=response.status_code, body=body)


def current_downstream() -> DownstreamClient:
    return current_app.extensions[_EXTENSION_KEY]


def _json_or_none(response: requests.Response) -> Any:
    # The body is the callee's to choose: anything that does not decode,
    # including nesting too deep for the decoder, counts as "not JSON".
    try:
        return response.json()
    except (ValueError, RecursionError):
        return None


def _error_code(body: Any) -> str:
    """The callee's machine code (`error` of the contract's error body), if it sent one."""
    if isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"]:
        return body["error"]
    return "bad_status"

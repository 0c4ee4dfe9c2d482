"""Outbound HTTP calls: other services, the external dependency, POST /test targets.

Trace context is NOT added here: the requests instrumentation opens a CLIENT
span around each call and writes `traceparent`/`tracestate` into it. This
client only adds the business headers (X-Trace-ID, X-Hop-Count) and the
bounds of docs/contract.md, "Outbound calls" (no redirect, 1 MiB, one
deadline), and turns every outcome into a CallResult instead of an exception,
so callers decide what a failure means for their own answer.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
from flask import Flask, current_app
from urllib3 import Timeout
from urllib3.exceptions import LocationParseError

from app.call_deadline import CallDeadline, DeadlineAdapter

_EXTENSION_KEY = "service_c.downstream"

_log = logging.getLogger(__name__)

# The answer's body is streamed and dropped past this: a target of POST /test
# must not make the worker hold more (docs/contract.md, "Outbound calls").
MAX_ANSWER_BYTES = 1 << 20
_CHUNK_BYTES = 64 << 10
# A target that sends nothing meets urllib3's own timeout at the deadline (a
# ReadTimeout on the CLIENT span); the timer, a moment later, cuts only one
# that keeps sending, and never races it.
_TIMER_GRACE_S = 0.1


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
    # "timeout", "unreachable", "bad_status", "invalid_response" (the same codes
    # service-a and -b use).
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def log_fields(self, url: str) -> dict[str, Any]:
        """The fields of a failed call's log line, the same in every service."""
        return {"url": loggable_url(url), "error": self.error, "downstream_status": self.status}

    def as_result_entry(self) -> Any:
        """The value a fan-out endpoint puts under `results` for this call."""
        return self.body if self.ok else {"error": self.error, "status": self.status}


class DownstreamClient:
    def __init__(self, timeout_ms: int) -> None:
        self._timeout_s = timeout_ms / 1000
        # Connecting and the wait for the answer share the budget.
        self._socket_timeout = Timeout(total=self._timeout_s)
        # One pooled session per worker process, shared by every request it
        # serves. Its cookie jar would be shared too: a cookie one request's
        # callee sets (POST /test and EXTERNAL_DEPENDENCY_URL reach any URL)
        # would go out with another request's calls, so it accepts none.
        self._session = requests.Session()
        self._session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        adapter = DeadlineAdapter()
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def install(self, app: Flask) -> None:
        app.extensions[_EXTENSION_KEY] = self

    def get(self, url: str, hop: Hop) -> CallResult:
        """GET `url`; a failure is logged here, once for every caller (docs/contract.md, "Outbound calls")."""
        result = self._call("GET", url, hop)
        if not result.ok:
            _log.warning("downstream call failed", extra=result.log_fields(url))
        return result

    def post_json(self, url: str, payload: Any, hop: Hop) -> CallResult:
        return self._call("POST", url, hop, json=payload)

    def _call(self, method: str, url: str, hop: Hop, **kwargs: Any) -> CallResult:
        status = None  # the answer's, once its headers are in
        with CallDeadline(self._timeout_s, grace_s=_TIMER_GRACE_S) as deadline:
            try:
                # A 3xx is the call's answer: POST /test's targets are the
                # caller's to choose, and must not send calls on elsewhere.
                with self._session.request(method, url, headers=hop.headers(), timeout=self._socket_timeout,
                                           allow_redirects=False, stream=True, **kwargs) as response:
                    deadline.guard(response.raw.shutdown)
                    # Headers in late are no answer (the timer's cut reads as their end).
                    status = None if deadline.passed else response.status_code
                    body = _read_at_most(response, MAX_ANSWER_BYTES)
            # A call that reached the transport has its exception on its CLIENT
            # span already (requests instrumentation); callers need only the kind.
            except requests.RequestException as error:
                # requests names a read timeout in the body a ConnectionError.
                if deadline.passed or isinstance(error, requests.Timeout):
                    return CallResult(status=status, body=None, error="timeout")
                if isinstance(error, requests.ConnectionError):
                    return CallResult(status=None, body=None, error="unreachable")
                return CallResult(status=None, body=None, error=type(error).__name__)
            # urllib3 raises this unwrapped when it cannot encode the host name
            # to connect to (a label over 63 characters): no such host.
            except LocationParseError:
                return CallResult(status=None, body=None, error="unreachable")
            # The timer's cut of a body without a length looks like its end.
            if deadline.passed:
                return CallResult(status=status, body=None, error="timeout")
        if body is None:
            return CallResult(status=status, body=None, error="invalid_response")
        answer = _json_or_none(body)
        if not 200 <= status < 300:
            return CallResult(status=status, body=answer, error=_error_code(answer))
        return CallResult(status=status, body=answer)


def _read_at_most(response: requests.Response, limit: int) -> bytes | None:
    """The answer's body (decoded as requests hands it over), or None as soon as it passes `limit` bytes."""
    body = bytearray()
    for chunk in response.iter_content(_CHUNK_BYTES):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def loggable_url(url: str) -> str:
    """`url` without its query string, fragment and user info (plain string work: it cannot fail).

    A log line never carries a query string (docs/contract.md, "Secrets never stored").
    """
    without_query = url.split("?", 1)[0].split("#", 1)[0]
    scheme, _, rest = without_query.partition("://")
    authority, slash, path = rest.partition("/")
    return f"{scheme}://{authority.rpartition('@')[2]}{slash}{path}"


def current_downstream() -> DownstreamClient:
    return current_app.extensions[_EXTENSION_KEY]


def _json_or_none(body: bytes) -> Any:
    # The body is the callee's to choose: anything that does not decode,
    # including nesting too deep for the decoder, counts as "not JSON".
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def _error_code(body: Any) -> str:
    """The callee's machine code (`error` of the contract's error body), if it sent one."""
    if isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"]:
        return body["error"]
    return "bad_status"

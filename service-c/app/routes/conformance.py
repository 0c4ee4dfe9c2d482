"""POST /test: the endpoint the W3C Trace Context test suite drives.

Body: a JSON array of {"url": ..., "arguments": ...}. Each entry, in order,
becomes one POST of `arguments` as JSON to `url` with the instrumented
client, so each call gets its own CLIENT span and exactly one `traceparent`.
The answer, `[]`, comes once every call has finished.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, jsonify, request
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url
from werkzeug.exceptions import RequestEntityTooLarge

from app.downstream import current_downstream
from app.errors import InvalidBody
from app.request_context import current_hop

conformance = Blueprint("conformance", __name__)

_log = logging.getLogger(__name__)

# Each call may wait out the full downstream timeout: a bounded list keeps one
# request from holding a worker thread for long (docs/contract.md).
MAX_CALLS = 32


@dataclass(frozen=True)
class ConformanceCall:
    url: str
    arguments: Any


@conformance.post("/test")
def post_test():
    client = current_downstream()
    for call in parse_calls(read_body()):
        result = client.post_json(call.url, call.arguments, current_hop())
        if not result.ok:
            # The suite judges the calls it receives, not our answer: keep going.
            _log.warning("conformance call failed", extra=result.log_fields(call.url))
    return jsonify([])


def read_body() -> bytes:
    """The request body; 413 when it is larger than the app's MAX_CONTENT_LENGTH.

    Werkzeug refuses a larger Content-Length before reading anything, but a
    chunked body it only cuts off at the limit, silently. One more byte left
    after a full-sized read means the body was larger.
    """
    body = request.get_data(cache=False)
    limit = request.max_content_length
    if limit is not None and len(body) >= limit and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()
    return body


def parse_calls(raw: bytes) -> list[ConformanceCall]:
    try:
        entries = json.loads(raw)
    # ValueError covers bad syntax and bad encodings; RecursionError is what
    # the decoder raises for nesting deeper than the interpreter's stack.
    except (ValueError, RecursionError):
        raise InvalidBody("body must be a JSON array of {\"url\", \"arguments\"} objects") from None
    if not isinstance(entries, list):
        raise InvalidBody("body must be a JSON array")
    if len(entries) > MAX_CALLS:
        raise InvalidBody(f"at most {MAX_CALLS} calls per request")
    calls = []
    for index, entry in enumerate(entries):
        url = entry.get("url") if isinstance(entry, dict) else None
        if not isinstance(url, str) or not _callable_url(url):
            raise InvalidBody(f"entry {index} needs an http(s) \"url\" with a host and no user name or password")
        arguments = entry.get("arguments")
        if not isinstance(arguments, list):  # missing and null included
            raise InvalidBody(f"entry {index} needs a JSON array as \"arguments\"")
        calls.append(ConformanceCall(url=url, arguments=arguments))
    return calls


def _callable_url(url: str) -> bool:
    """http(s), a host, no credentials (docs/contract.md, "Input rules"), read as requests reads it (urllib3).

    requests encodes credentials as latin1 (a `€` raised UnicodeEncodeError),
    fetch refuses them: all three services refuse such a URL.
    """
    try:
        parts = parse_url(url)
    except LocationParseError:
        return False
    user, _, password = (parts.auth or "").partition(":")
    return parts.scheme in ("http", "https") and bool(parts.host) and not user and not password


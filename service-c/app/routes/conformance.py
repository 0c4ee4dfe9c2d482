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
    for call in parse_calls(request.get_data(cache=False)):
        result = client.post_json(call.url, call.arguments, current_hop())
        if not result.ok:
            # The suite judges the calls it receives, not our answer: keep going.
            _log.warning("conformance call failed", extra={"target": call.url, "error": result.error})
    return jsonify([])


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
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise InvalidBody(f"entry {index} needs an http(s) \"url\"")
        calls.append(ConformanceCall(url=url, arguments=entry.get("arguments", [])))
    return calls

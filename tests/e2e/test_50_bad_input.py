"""Bad input to each service directly gets the contract's JSON error, never a crash
(docs/contract.md: errors, simulation parameters, X-Hop-Count, POST /test)."""

from __future__ import annotations

import json

import pytest
import requests

from tests.support.ids import OTEL_TRACE_ID
from tools.native.stack import SERVICES

# docs/contract.md, "W3C conformance endpoint".
MAX_CONFORMANCE_CALLS = 32

ERROR_FIELDS = {"service", "trace_id", "otel_trace_id", "error", "message"}

# (case, method, path, headers, body, expected status(es), expected "error" code or None if unspecified)
BAD_INPUT = [
    ("unknown-route", "GET", "/no/such/route", {}, None, {404}, "not_found"),
    ("wrong-method", "DELETE", "/api/process", {}, None, {404, 405}, None),
    ("delay-not-a-number", "GET", "/api/process?delay_ms=abc", {}, None, {400}, "invalid_parameter"),
    ("fail-not-a-boolean", "GET", "/api/process?fail=maybe", {}, None, {400}, "invalid_parameter"),
    ("hop-count-not-a-number", "GET", "/api/process", {"X-Hop-Count": "abc"}, None, {400}, None),
    ("hop-count-negative", "GET", "/api/process", {"X-Hop-Count": "-1"}, None, {400}, None),
    ("hop-count-over-the-limit", "GET", "/api/process", {"X-Hop-Count": "6"}, None, {508}, None),
    ("test-body-not-json", "POST", "/test", {"Content-Type": "application/json"}, b"{not json", {400}, None),
    ("test-body-not-a-list", "POST", "/test", {"Content-Type": "application/json"}, b'{"url": "x"}', {400}, None),
    ("test-body-too-many-calls", "POST", "/test", {"Content-Type": "application/json"},
     json.dumps([{"url": "http://127.0.0.1:9/", "arguments": []}] * (MAX_CONFORMANCE_CALLS + 1)).encode(),
     {400}, "invalid_body"),
]


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("case, method, path, headers, body, statuses, code", BAD_INPUT,
                         ids=[case[0] for case in BAD_INPUT])
def test_bad_input_gets_a_json_error(stack, service, case, method, path, headers, body, statuses, code):
    url = stack.service_urls[service]
    response = requests.request(method, url + path, headers=headers, data=body, timeout=10)
    assert response.status_code in statuses, f"{case}: {response.status_code} {response.text[:300]!r}"
    try:
        payload = response.json()
    except ValueError:
        pytest.fail(f"{case}: the error body is not JSON: {response.text[:300]!r}")
    assert ERROR_FIELDS <= set(payload), f"{case}: error body lacks {ERROR_FIELDS - set(payload)}: {payload}"
    assert payload["service"] == service
    assert payload["trace_id"] == response.headers.get("X-Trace-ID")
    assert OTEL_TRACE_ID.match(payload["otel_trace_id"] or ""), payload
    if code:
        assert payload["error"] == code
    assert requests.get(f"{url}/health", timeout=5).status_code == 200

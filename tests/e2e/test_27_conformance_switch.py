"""CONFORMANCE_ENDPOINT (docs/contract.md, "Environment"): off, a service's /test
is no route, so every method gets exactly the answer of an unknown path and
the URL in the body is never called; on (how the stack runs), POST /test calls it.

One row per service: the service is restarted with the switch off, asked,
then restarted as the stack runs it and asked again. Requests go out through
raw sockets, so the answer is exactly what the service wrote.
"""

from __future__ import annotations

import json
from typing import Iterator

import pytest

from tests.support import raw_http
from tests.support.recording_server import RecordingServer
from tools.native.stack import SERVICES

METHODS = ["POST", "GET", "HEAD", "PUT", "OPTIONS"]
UNKNOWN_PATH = "/no-such-route"
JSON = [("Content-Type", "application/json")]


@pytest.fixture(scope="module")
def far_end() -> Iterator[RecordingServer]:
    with RecordingServer() as server:
        yield server


def endpoint_body(far_end: RecordingServer) -> bytes:
    return json.dumps([{"url": f"{far_end.url}/called", "arguments": []}]).encode()


def answer_as_an_unknown_path(url: str, method: str, body: bytes) -> list[str]:
    """What differs between `method /test` and the same request to an unknown path."""
    unknown = raw_http.send(url, method, UNKNOWN_PATH, JSON, body=body)
    answer = raw_http.send(url, method, "/test", JSON, body=body)
    problems = []
    if (answer.status, unknown.status) != (404, 404):
        problems.append(f"{method}: status {answer.status} (unknown path {unknown.status}), want 404")
    if answer.header("Allow") is not None:
        problems.append(f"{method}: Allow {answer.header('Allow')!r}")
    if answer.header("Content-Type") != unknown.header("Content-Type"):
        problems.append(f"{method}: Content-Type {answer.header('Content-Type')!r}, "
                        f"unknown path {unknown.header('Content-Type')!r}")
    if method != "HEAD":
        got = answer.json() if answer.is_json() else answer.body[:200]
        want = unknown.json()
        if not isinstance(got, dict) or (got.get("error"), got.get("message")) != ("not_found", want["message"]):
            problems.append(f"{method}: body {got!r}, want error not_found and the message {want['message']!r}")
    return problems


@pytest.mark.parametrize("service", SERVICES)
def test_off_is_an_unknown_path_and_on_calls_the_url(stack, far_end, service, callbacks_reach_this_host):
    native = stack.require_native()
    url = stack.service_urls[service]
    body = endpoint_body(far_end)
    earlier = len(far_end.recorded())

    assert native.stop_component(service) == 0, f"{service} did not exit 0 on SIGTERM"
    try:
        native.start_component(service, {"CONFORMANCE_ENDPOINT": "off"})
        problems = [problem for method in METHODS for problem in answer_as_an_unknown_path(url, method, body)]
        calls_while_off = far_end.recorded()[earlier:]
    finally:
        native.stop_component(service)
        native.start_component(service)
    assert problems == []
    # A service that was reached makes its calls before it answers: no waiting needed.
    assert [(c.method, c.path) for c in calls_while_off] == []

    answer = raw_http.send(url, "POST", "/test", JSON, body=body)
    assert (answer.status, answer.json()) == (200, []), answer.body[:300]
    assert [(c.method, c.path) for c in far_end.recorded()[earlier:]] == [("POST", "/called")]

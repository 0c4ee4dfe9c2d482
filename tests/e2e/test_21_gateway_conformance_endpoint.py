"""POST /test (the W3C conformance endpoint) makes a service call any URL in its
body: through the public gateway it must be unreachable in every spelling a
lenient router might accept, with every method.

Each row sends the endpoint's body naming a recording server as the target;
that server must never be called, and every answer must be the gateway's JSON
error. Requests go out through raw sockets: a client library would normalise
the very spellings under test. The control row calls each service's /test on
its own port, to prove the same body does reach the recording server.
"""

from __future__ import annotations

import json
from typing import Iterator

import pytest
import requests

from tests.support import raw_http
from tests.support.ids import MINTED_X_TRACE_ID
from tests.support.recording_server import RecordingServer
from tools.native.stack import SERVICES

# name -> path after /service-x. Case, slashes (trailing, doubled, encoded),
# percent-encoded letters and dots, `.`/`..` segments, `;` parameters, suffixes.
SPELLINGS = {
    "exact": "/test",
    "upper": "/TEST",
    "capitalised": "/Test",
    "mixed-case": "/TeSt",
    "trailing-slash": "/test/",
    "upper-trailing-slash": "/TEST/",
    "mixed-case-double-trailing-slash": "/TeSt//",
    "leading-double-slash": "//test",
    "encoded-slash-after": "/test%2f",
    "encoded-slash-after-upper-hex": "/test%2F",
    "encoded-slash-before": "/%2ftest",
    "encoded-letter": "/%74est",
    "encoded-letter-upper-case": "/TE%53T",
    "dot-segment": "/./test",
    "dot-dot-segment": "/api/../test",
    "encoded-dot-dot": "/api/%2e%2e/test",
    "encoded-dot-dot-upper-hex": "/api/%2E%2E/test",
    "encoded-dot": "/%2e/test",
    "semicolon-parameter": "/test;x=1",
    "semicolon-parameter-upper-case": "/TEST;jsessionid=abc",
    "encoded-semicolon": "/test%3bx",
    "semicolon-then-slash": "/test;/",
    "dot-suffix": "/test.",
    "json-suffix": "/test.json",
    "query": "/test?x=1",
    "encoded-backslash": "/%5ctest",
    "encoded-nul": "/test%00",
}
# Spellings nginx refuses to parse at all (400), whatever the method.
UNPARSEABLE = {"encoded-nul"}
METHODS = ["HEAD", "OPTIONS", "POST", "PUT", "GET"]


def endpoint_body(far_end: RecordingServer) -> bytes:
    return json.dumps([{"url": f"{far_end.url}/x", "arguments": []}]).encode()


def expected(method: str, spelling: str) -> tuple[int, str]:
    if spelling in UNPARSEABLE:
        return 400, "bad_request"
    if method in ("GET", "HEAD"):
        return 404, "not_found"
    return 405, "method_not_allowed"


@pytest.fixture(scope="module")
def far_end() -> Iterator[RecordingServer]:
    with RecordingServer() as server:
        yield server


@pytest.mark.parametrize("service", SERVICES)
def test_control_the_same_body_reaches_the_recording_server_on_the_services_own_port(stack, service,
                                                                                     callbacks_reach_this_host):
    with RecordingServer() as control:
        response = requests.post(f"{stack.service_urls[service]}/test", data=endpoint_body(control),
                                 headers={"Content-Type": "application/json"}, timeout=15)
        assert response.status_code == 200, response.text[:300]
        calls = control.recorded()
    assert [(c.method, c.path) for c in calls] == [("POST", "/x")]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("service", SERVICES)
def test_conformance_endpoint_is_unreachable_through_the_gateway(stack, far_end, service, spelling, method):
    path = f"/{service}{SPELLINGS[spelling]}"
    earlier = len(far_end.recorded())
    response = raw_http.send(stack.gateway_url, method, path, [("Content-Type", "application/json")],
                             body=endpoint_body(far_end))

    # A service that was reached makes its calls before it answers: no waiting needed.
    calls = [(c.method, c.path) for c in far_end.recorded()[earlier:]]
    assert calls == [], f"{method} {path} reached the service: it called the recording server {calls}"
    status, code = expected(method, spelling)
    assert response.status == status, f"{method} {path}: {response.status} {response.body[:300]!r}"
    assert response.header("Content-Type") == "application/json"
    x_trace_id = response.header("X-Trace-ID")
    assert x_trace_id and MINTED_X_TRACE_ID.match(x_trace_id), f"X-Trace-ID {x_trace_id!r}"
    if status == 405:
        assert response.header("Allow") == "GET, HEAD"
    if method == "HEAD":
        assert response.body == b""
        return
    assert response.json() == {"service": "gateway", "trace_id": x_trace_id, "error": code,
                               "message": response.json()["message"]}

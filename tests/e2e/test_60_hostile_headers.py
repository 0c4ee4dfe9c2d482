"""Hostile header values, through the gateway and to each service directly.

Every answer must be an answer (no crash, no 5xx), a hostile X-Trace-ID must
never be echoed, and the process must keep serving. The other half of the
check is tests/e2e/test_90_log_files.py: after all of this, every log line is
still one valid JSON object.
"""

from __future__ import annotations

import pytest
import requests

from tests.support import raw_http
from tests.support.ids import MINTED_X_TRACE_ID
from tools.native.stack import SERVICES

TEN_KB = 10 * 1024

# case -> header lines, written to the socket as given (bytes where the value is not text).
HOSTILE = {
    "x-trace-id-with-quotes": [("X-Trace-ID", 'abc"def')],
    "x-trace-id-json-breakout": [("X-Trace-ID", '","level":"ERROR","message":"forged","x":"')],
    "x-trace-id-backslashes": [("X-Trace-ID", "abc\\\\def\\")],
    "x-trace-id-control-chars": [("X-Trace-ID", b"abc\x0bdef\x0c\x1b[31m")],
    "x-trace-id-unicode-line-separator": [("X-Trace-ID", "abc\u2028def\u0085")],
    "x-trace-id-latin1-bytes": [("X-Trace-ID", b"caf\xe9")],
    "x-trace-id-bare-cr": [("X-Trace-ID", b"abc\rdef")],
    "x-trace-id-bare-lf-then-header": [("X-Trace-ID", b"abc\nX-Injected: 1")],
    "x-trace-id-crlf-injected-line": [("X-Trace-ID", b"abc\r\nX-Injected: yes")],
    "x-trace-id-obs-fold": [("X-Trace-ID", b"abc\r\n folded")],
    "x-trace-id-10kb": [("X-Trace-ID", "a" * TEN_KB)],
    "traceparent-malformed": [("traceparent", "00-not-hex-at-all-01")],
    "traceparent-all-zero-ids": [("traceparent", f"00-{'0' * 32}-{'0' * 16}-01")],
    "traceparent-unknown-version-ff": [("traceparent", f"ff-{'a' * 32}-{'b' * 16}-01")],
    "traceparent-10kb": [("traceparent", f"00-{'a' * 32}-{'b' * 16}-01-" + "x" * TEN_KB)],
    "tracestate-10kb": [("traceparent", f"00-{'a' * 32}-{'b' * 16}-01"), ("tracestate", "k=" + "v" * TEN_KB)],
    "tracestate-junk": [("traceparent", f"00-{'a' * 32}-{'b' * 16}-01"), ("tracestate", '",\\,=,' * 500)],
    "conflicting-traceparents-6kb": [("traceparent", "A" * 6144), ("traceparent", "B" * 6144)],
    "x-hop-count-10kb": [("X-Hop-Count", "9" * TEN_KB)],
    "many-headers-40kb": [(f"X-Filler-{i}", "f" * 1024) for i in range(40)],
}
TARGETS = [f"gateway->{s}" for s in SERVICES] + [f"direct->{s}" for s in SERVICES]
def target_address(stack, target: str) -> tuple[str, str]:
    via, service = target.split("->")
    if via == "gateway":
        return stack.gateway_url, f"/{service}/api/process"
    return stack.service_urls[service], "/api/process"


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_headers_get_an_answer_and_leave_the_process_serving(stack, target, case):
    base_url, path = target_address(stack, target)
    response = raw_http.send(base_url, "GET", path, HOSTILE[case])

    assert response.status < 500, f"{response.status}: {response.body[:300]!r}"
    # docs/contract.md, "Errors are JSON": also what an HTTP server refuses itself.
    assert response.is_json(), f"{response.status} body is not JSON: {response.body[:300]!r}"
    if response.is_json() and isinstance(response.json(), dict):
        echoed = response.json().get("trace_id")
        assert echoed is None or MINTED_X_TRACE_ID.match(echoed) or echoed == "abc", (
            f"X-Trace-ID came back as {echoed!r}")
    assert response.header("X-Injected") is None
    assert requests.get(f"{base_url}/health", timeout=5).status_code == 200


@pytest.mark.parametrize("case", ["x-trace-id-10kb", "many-headers-40kb"])
def test_gateway_refuses_oversized_headers_with_json(stack, case):
    response = raw_http.send(stack.gateway_url, "GET", "/service-a/api/process", HOSTILE[case])
    assert response.status == 431, f"{response.status}: {response.body[:300]!r}"
    assert response.json()["error"] == "headers_too_large"
    assert MINTED_X_TRACE_ID.match(response.json()["trace_id"]), response.json()

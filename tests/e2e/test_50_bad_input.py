"""docs/contract.md, "Input rules": one table, sent byte for byte to each
service's own port. Every row has exactly one expected answer, the same in all
three languages; a broken rule answers with the contract's JSON error and the
process keeps serving. Where a service's HTTP server refuses the request line
before the app, the answer is the same but has no otel_trace_id (no span)."""

from __future__ import annotations

import json
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from tests.support import raw_http
from tests.support.ids import OTEL_TRACE_ID
from tools.native.stack import SERVICES

# One service's own input handling, through its direct URL: the same code in
# every run mode (CI runs it natively; tools/compose_check --ci leaves it out).
pytestmark = pytest.mark.service_input

# docs/contract.md, "Input rules" and "W3C conformance endpoint".
MAX_CONFORMANCE_CALLS = 32
MAX_BODY = 64 * 1024
BODY_READ_BOUND = 10.0  # seconds a service may wait for a body that never comes

ERROR_FIELDS = {"service", "trace_id", "otel_trace_id", "error", "message"}
JSON = ("Content-Type", "application/json")
GET_ALLOW = {"GET", "HEAD"}
POST_ALLOW = {"POST"}


def calls(n: int, url: str = "http://127.0.0.1:9/") -> bytes:
    return json.dumps([{"url": url, "arguments": []}] * n).encode()


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    status: int
    error: str | None  # the JSON error code; None for a success
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    allow: set[str] | None = None  # the Allow header of a 405
    version: str = "HTTP/1.1"  # as written in the request line
    host: object = None  # the Host line's value; None: the service's address, raw_http.NO_HOST: no line
    fields: dict = field(default_factory=dict)  # body fields the answer must have, with these values
    # The HTTP server of some services refuses this request line itself, before
    # the app and its server span: the answer then has no otel_trace_id.
    parser_may_answer: bool = False


def one_call(arguments: object) -> bytes:
    """A POST /test body of one call to a closed port with these `arguments`."""
    return json.dumps([{"url": "http://127.0.0.1:9/", "arguments": arguments}]).encode()


def parser_row(method: str, path: str, status: int, error: str, version: str = "HTTP/1.1") -> Row:
    return Row(method, path, status, error, version=version, parser_may_answer=True)


ROWS = {
    # method: a known path answers only its methods
    "GET is served": Row("GET", "/api/process", 200, None),
    "HEAD wherever GET is": Row("HEAD", "/api/process", 200, None),
    "DELETE on a GET route": Row("DELETE", "/api/process", 405, "method_not_allowed", allow=GET_ALLOW),
    "POST on a GET route": Row("POST", "/api/process", 405, "method_not_allowed", allow=GET_ALLOW),
    "PUT on a GET route": Row("PUT", "/health", 405, "method_not_allowed", allow=GET_ALLOW),
    "OPTIONS is not served": Row("OPTIONS", "/api/process", 405, "method_not_allowed", allow=GET_ALLOW),
    "GET on POST /test": Row("GET", "/test", 405, "method_not_allowed", allow=POST_ALLOW),
    "HEAD on POST /test": Row("HEAD", "/test", 405, "method_not_allowed", allow=POST_ALLOW),
    "OPTIONS on POST /test": Row("OPTIONS", "/test", 405, "method_not_allowed", allow=POST_ALLOW),
    "PUT on POST /test": Row("PUT", "/test", 405, "method_not_allowed", allow=POST_ALLOW),
    "POST on /health": Row("POST", "/health", 405, "method_not_allowed", allow=GET_ALLOW),
    "TRACE on a GET route": Row("TRACE", "/api/process", 405, "method_not_allowed", allow=GET_ALLOW),
    # method: one no service implements, on any path
    "CONNECT to a host and port": parser_row("CONNECT", "127.0.0.1:9", 501, "not_implemented"),
    "CONNECT on a route": parser_row("CONNECT", "/api/process", 501, "not_implemented"),
    "WebDAV PROPFIND": Row("PROPFIND", "/api/process", 501, "not_implemented"),
    "unknown method on a route": parser_row("FOO", "/api/process", 501, "not_implemented"),
    "unknown method on no route": parser_row("FOO", "/no/such/route", 501, "not_implemented"),
    "method in lower case": parser_row("get", "/api/process", 501, "not_implemented"),
    # HTTP version: 1.0 and 1.1 only
    "HTTP/1.0 is served": Row("GET", "/api/process", 200, None, version="HTTP/1.0"),
    "HTTP/0.9": parser_row("GET", "/api/process", 505, "http_version_not_supported", "HTTP/0.9"),
    "HTTP/1.2": parser_row("GET", "/api/process", 505, "http_version_not_supported", "HTTP/1.2"),
    "HTTP/2.0 in an HTTP/1 request line": parser_row("GET", "/api/process", 505, "http_version_not_supported",
                                                     "HTTP/2.0"),
    "HTTP/3.0": parser_row("GET", "/api/process", 505, "http_version_not_supported", "HTTP/3.0"),
    # docs/contract.md, "Errors are JSON": what each service's HTTP server refuses itself
    "a method that is no token": parser_row("G\x01T", "/api/process", 400, "bad_request"),
    "a control byte in a header value": Row("GET", "/api/process", 400, "bad_request", [("User-Agent", "a\x01b")],
                                            parser_may_answer=True),
    "a header name that is no token": Row("GET", "/api/process", 400, "bad_request", [("X\x01Y", "1")],
                                          parser_may_answer=True),
    "a malformed Content-Length": Row("GET", "/api/process", 400, "bad_request", [("Content-Length", "abc")],
                                      parser_may_answer=True),
    "an Expect other than 100-continue": Row("GET", "/api/process", 417, "expectation_failed",
                                             [("Expect", "teapot")], parser_may_answer=True),
    "headers over every service's limit": Row("GET", "/api/process", 431, "headers_too_large",
                                              [("X-Big", "b" * 70000)], parser_may_answer=True),
    # Host: one line, required in HTTP/1.1, of the bytes of a host and port
    "no Host in HTTP/1.1": Row("GET", "/api/process", 400, "bad_request", host=raw_http.NO_HOST,
                               parser_may_answer=True),
    "no Host in HTTP/1.0": Row("GET", "/api/process", 200, None, version="HTTP/1.0", host=raw_http.NO_HOST),
    "two Host lines": Row("GET", "/api/process", 400, "bad_request", [("Host", "x")], parser_may_answer=True),
    "a Host with a space": Row("GET", "/api/process", 400, "bad_request", host="a b", parser_may_answer=True),
    "a Host with user info": Row("GET", "/api/process", 400, "bad_request", host="user@x",
                                 parser_may_answer=True),
    "a Host with a slash": Row("GET", "/api/process", 400, "bad_request", host="a/b", parser_may_answer=True),
    "a Host not ASCII": Row("GET", "/api/process", 400, "bad_request", host=b"h\xffst", parser_may_answer=True),
    "an empty Host": Row("GET", "/api/process", 200, None, host=""),
    "an IPv6 Host": Row("GET", "/api/process", 200, None, host="[::1]:9"),
    "CONNECT without Host": Row("CONNECT", "127.0.0.1:9", 501, "not_implemented", host=raw_http.NO_HOST,
                                parser_may_answer=True),
    # path: exactly one spelling
    "unknown route": Row("GET", "/no/such/route", 404, "not_found"),
    "upper case": Row("GET", "/API/process", 404, "not_found"),
    "trailing slash": Row("GET", "/api/process/", 404, "not_found"),
    "doubled slash": Row("GET", "/api//process", 404, "not_found"),
    "leading doubled slash": Row("GET", "//api/process", 404, "not_found"),
    "semicolon parameter": Row("GET", "/api/process;jsessionid=1", 404, "not_found"),
    "encoded slash %2f": Row("GET", "/api%2fprocess", 404, "not_found"),
    "encoded slash %2F": Row("GET", "/api%2Fprocess", 404, "not_found"),
    "/test in upper case": Row("POST", "/TEST", 404, "not_found", [JSON], calls(1)),
    "/test with a trailing slash": Row("POST", "/test/", 404, "not_found", [JSON], calls(1)),
    "/test with an encoded slash": Row("POST", "/test%2f", 404, "not_found", [JSON], calls(1)),
    "/test with a parameter": Row("POST", "/test;x=1", 404, "not_found", [JSON], calls(1)),
    "/test with an empty parameter": Row("POST", "/test;", 404, "not_found", [JSON], calls(1)),
    "/test in mixed case": Row("POST", "/TeSt", 404, "not_found", [JSON], calls(1)),
    "/test with a leading doubled slash": Row("POST", "//test", 404, "not_found", [JSON], calls(1)),
    "/test with a dot segment": Row("POST", "/./test", 404, "not_found", [JSON], calls(1)),
    "/test with a dot-dot segment": Row("POST", "/x/../test", 404, "not_found", [JSON], calls(1)),
    "/test with an encoded letter": Row("POST", "/%74est", 404, "not_found", [JSON], calls(1)),
    "encoded dot segment": Row("GET", "/api/%2e/process", 404, "not_found"),
    "/health in upper case": Row("GET", "/HEALTH", 404, "not_found"),
    "/health with a trailing slash": Row("GET", "/health/", 404, "not_found"),
    "OPTIONS on no route": Row("OPTIONS", "/no/such/route", 404, "not_found"),
    "OPTIONS *": Row("OPTIONS", "*", 404, "not_found"),
    # X-Hop-Count: one line of 1 to 3 ASCII digits
    "hop count 0": Row("GET", "/api/process", 200, None, [("X-Hop-Count", "0")]),
    "hop count at the limit": Row("GET", "/api/process", 200, None, [("X-Hop-Count", "5")]),
    "hop count with leading zeros": Row("GET", "/api/process", 200, None, [("X-Hop-Count", "003")]),
    "hop count over the limit": Row("GET", "/api/process", 508, "loop_detected", [("X-Hop-Count", "6")]),
    "hop count 999": Row("GET", "/api/process", 508, "loop_detected", [("X-Hop-Count", "999")]),
    "hop count of 4 digits": Row("GET", "/api/process", 400, "invalid_hop_count", [("X-Hop-Count", "1000")]),
    "hop count of 10 digits": Row("GET", "/api/process", 400, "invalid_hop_count",
                                  [("X-Hop-Count", "9999999999")]),
    "hop count of 10 KB": Row("GET", "/api/process", 400, "invalid_hop_count", [("X-Hop-Count", "9" * 10240)]),
    "hop count empty": Row("GET", "/api/process", 400, "invalid_hop_count", [("X-Hop-Count", "")]),
    "hop count not a number": Row("GET", "/api/process", 400, "invalid_hop_count", [("X-Hop-Count", "abc")]),
    "hop count negative": Row("GET", "/api/process", 400, "invalid_hop_count", [("X-Hop-Count", "-1")]),
    "hop count with a sign": Row("GET", "/api/process", 400, "invalid_hop_count", [("X-Hop-Count", "+1")]),
    "hop count decimal": Row("GET", "/api/process", 400, "invalid_hop_count", [("X-Hop-Count", "1.0")]),
    "hop count inner space": Row("GET", "/api/process", 400, "invalid_hop_count", [("X-Hop-Count", "1 2")]),
    "hop count two equal lines": Row("GET", "/api/process", 400, "invalid_hop_count",
                                     [("X-Hop-Count", "1"), ("X-Hop-Count", "1")]),
    "hop count two lines": Row("GET", "/api/process", 400, "invalid_hop_count",
                               [("X-Hop-Count", "1"), ("X-Hop-Count", "2")]),
    "hop count comma list": Row("GET", "/api/process", 400, "invalid_hop_count", [("X-Hop-Count", "1,2")]),
    "the method is checked before the hop count": Row("DELETE", "/api/process", 405, "method_not_allowed",
                                                       [("X-Hop-Count", "abc")], allow=GET_ALLOW),
    "the path is checked before the hop count": Row("GET", "/API/process", 404, "not_found",
                                                     [("X-Hop-Count", "abc")]),
    "a method no service implements comes before the hop count": Row("FOO", "/api/process", 501, "not_implemented",
                                                                      [("X-Hop-Count", "abc")],
                                                                      parser_may_answer=True),
    "hop count is checked before the query": Row("GET", "/api/process?delay_ms=abc", 400, "invalid_hop_count",
                                                 [("X-Hop-Count", "abc")]),
    "hop count is checked before the method's work": Row("POST", "/test", 508, "loop_detected",
                                                         [("X-Hop-Count", "6"), JSON], calls(1)),
    # query parameters
    "delay not a number": Row("GET", "/api/process?delay_ms=abc", 400, "invalid_parameter"),
    "fail not a boolean": Row("GET", "/api/process?fail=maybe", 400, "invalid_parameter"),
    "fail in upper case": Row("GET", "/api/process?fail=TRUE", 400, "invalid_parameter"),
    "fail capitalised": Row("GET", "/api/process?fail=False", 400, "invalid_parameter"),
    "fail with a space": Row("GET", "/api/process?fail=%20true", 400, "invalid_parameter"),
    "fail empty": Row("GET", "/api/process?fail=", 400, "invalid_parameter"),
    "fail given twice": Row("GET", "/api/process?fail=true&fail=false", 400, "invalid_parameter"),
    "fail given twice, same value": Row("GET", "/api/process?fail=false&fail=false", 400, "invalid_parameter"),
    "delay given twice": Row("GET", "/api/process?delay_ms=1&delay_ms=1", 400, "invalid_parameter"),
    "delay empty": Row("GET", "/api/process?delay_ms=", 400, "invalid_parameter"),
    "delay without a value": Row("GET", "/api/process?delay_ms", 400, "invalid_parameter"),
    "delay with a plus sign": Row("GET", "/api/process?delay_ms=%2B5", 400, "invalid_parameter"),
    "delay decimal": Row("GET", "/api/process?delay_ms=1.0", 400, "invalid_parameter"),
    "delay with an exponent": Row("GET", "/api/process?delay_ms=1e3", 400, "invalid_parameter"),
    "delay in Arabic-Indic digits": Row("GET", "/api/process?delay_ms=%D9%A1", 400, "invalid_parameter"),
    "delay of 20 digits": Row("GET", "/api/process?delay_ms=00000000000000000007", 200, None,
                              fields={"delay_ms": 7}),
    "delay negative, clamped to 0": Row("GET", "/api/process?delay_ms=-5", 200, None, fields={"delay_ms": 0}),
    # The same 20 digits without the sign are clamped to 10000, a 10 s wait:
    # each service's unit tests check that value.
    "delay hugely negative, clamped to 0": Row("GET", "/api/process?delay_ms=-99999999999999999999", 200, None,
                                               fields={"delay_ms": 0}),
    "unknown parameters are ignored, even twice": Row("GET", "/api/process?x=1&x=2&FAIL=true", 200, None),
    # POST /test body
    "test body empty": Row("POST", "/test", 400, "invalid_body", [JSON]),
    "test body not JSON": Row("POST", "/test", 400, "invalid_body", [JSON], b"{not json"),
    "test body not a list": Row("POST", "/test", 400, "invalid_body", [JSON], b'{"url": "x"}'),
    "test entry not an object": Row("POST", "/test", 400, "invalid_body", [JSON], b'["http://127.0.0.1:9/"]'),
    "test entry without url": Row("POST", "/test", 400, "invalid_body", [JSON], b'[{"arguments": []}]'),
    "test url not http": Row("POST", "/test", 400, "invalid_body", [JSON], calls(1, "file:///etc/passwd")),
    "test arguments not a list": Row("POST", "/test", 400, "invalid_body", [JSON], one_call("notalist")),
    "test arguments an object": Row("POST", "/test", 400, "invalid_body", [JSON], one_call({"a": 1})),
    "test arguments null": Row("POST", "/test", 400, "invalid_body", [JSON], one_call(None)),
    "test entry without arguments": Row("POST", "/test", 400, "invalid_body", [JSON],
                                        b'[{"url": "http://127.0.0.1:9/"}]'),
    "test body null": Row("POST", "/test", 400, "invalid_body", [JSON], b"null"),
    "test entry null": Row("POST", "/test", 400, "invalid_body", [JSON], b"[null]"),
    "test url not a string": Row("POST", "/test", 400, "invalid_body", [JSON], b'[{"url": 1, "arguments": []}]'),
    "test body with trailing data": Row("POST", "/test", 400, "invalid_body", [JSON], b"[] []"),
    "test body not UTF-8": Row("POST", "/test", 400, "invalid_body", [JSON], b"\xff\xfe"),
    "test body nested past a parser's depth": Row("POST", "/test", 400, "invalid_body", [JSON], b"[" * 60_000),
    "test keys in another case": Row("POST", "/test", 400, "invalid_body", [JSON],
                                     b'[{"URL": "http://127.0.0.1:9/", "Arguments": []}]'),
    "test body with too many calls": Row("POST", "/test", 400, "invalid_body", [JSON],
                                         calls(MAX_CONFORMANCE_CALLS + 1)),
    "test body of exactly the limit": Row("POST", "/test", 200, None, [JSON], b"[" + b" " * (MAX_BODY - 2) + b"]"),
    "test body one byte over the limit": Row("POST", "/test", 413, "body_too_large", [JSON],
                                             b"[" + b" " * (MAX_BODY - 1) + b"]"),
    "test body too large": Row("POST", "/test", 413, "body_too_large", [JSON],
                               b"[" + b" " * MAX_BODY + b"]"),
    "test body empty list": Row("POST", "/test", 200, None, [JSON], b"[]"),
}


def error_of(service: str, row: Row, response: raw_http.RawResponse) -> None:
    """The contract's JSON error, complete and consistent with the headers."""
    try:
        payload = response.json()
    except ValueError:
        pytest.fail(f"the error body is not JSON: {response.body[:300]!r}")
    assert ERROR_FIELDS <= set(payload), f"error body lacks {ERROR_FIELDS - set(payload)}: {payload}"
    assert payload["service"] == service
    assert payload["error"] == row.error, payload
    assert payload["trace_id"] == response.header("X-Trace-ID"), payload
    assert OTEL_TRACE_ID.match(payload["otel_trace_id"] or ""), payload


def parser_error_of(service: str, row: Row, response: raw_http.RawResponse) -> None:
    """The same error as the app's, but with otel_trace_id only if a span was started."""
    try:
        payload = response.json()
    except ValueError:
        pytest.fail(f"the error body is not JSON: {response.body[:300]!r}")
    assert ERROR_FIELDS - {"otel_trace_id"} <= set(payload), f"error body lacks fields: {payload}"
    assert (payload["service"], payload["error"]) == (service, row.error), payload
    assert payload["trace_id"] == response.header("X-Trace-ID"), payload
    if "otel_trace_id" in payload:
        assert OTEL_TRACE_ID.match(payload["otel_trace_id"] or ""), payload


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_input_rule(stack, service, row):
    if row.path == "/test":
        stack.require_conformance_endpoint()
    url = stack.service_urls[service]
    response = raw_http.send(url, row.method, row.path, row.headers, body=row.body, version=row.version,
                             host=row.host)

    assert response.status == row.status, f"{response.status} {response.body[:300]!r}"
    if row.allow is not None:
        allowed = {m.strip() for m in (response.header("Allow") or "").split(",") if m.strip()}
        assert allowed == row.allow, f"Allow: {response.header('Allow')!r}"
    if row.method == "HEAD":
        assert response.body == b"", f"a HEAD answer has no body: {response.body[:100]!r}"
    elif row.parser_may_answer:
        parser_error_of(service, row, response)
    elif row.error is not None:
        error_of(service, row, response)
    if row.fields:
        assert row.fields.items() <= response.json().items(), response.body[:300]
    assert requests.get(f"{url}/health", timeout=5).status_code == 200


def post_test(framing: bytes, body: bytes = b"") -> bytes:
    """POST /test's head after its Host line: the framing header(s), then `body`."""
    return b"POST /test HTTP/1.1\r\nContent-Type: application/json\r\n" + framing + b"\r\n\r\n" + body


def chunked(*pieces: bytes) -> bytes:
    return b"".join(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" for piece in pieces) + b"0\r\n\r\n"


CHUNKED = b"Transfer-Encoding: chunked"
STUCK = {400, None}  # None: the connection closed without an answer
# docs/contract.md, "Input rules", body framing: a body framed either way is
# read; one that never completes or breaks its framing ends in a 400 or a
# close within the body bound, never a hang, never a 5xx.
FRAMING = {
    "a chunked body is read": (post_test(CHUNKED, chunked(b"[", b"]")), {200}),
    "a chunked body over the limit": (post_test(CHUNKED, chunked(b"[" + b" " * MAX_BODY + b"]")), {413}),
    "content-length over the limit, no body sent": (post_test(f"Content-Length: {MAX_BODY + 1}".encode()), {413}),
    "content-length larger than the body": (post_test(b"Content-Length: 1000", b"[]"), STUCK),
    "content-length and no body sent": (post_test(b"Content-Length: 10"), STUCK),
    "chunked body that stops mid-chunk": (post_test(CHUNKED, b"10\r\n[]"), STUCK),
    "chunked body without its last chunk": (post_test(CHUNKED, b"2\r\n[]\r\n"), STUCK),
    "last chunk without the final CRLF": (post_test(CHUNKED, b"2\r\n[]\r\n0\r\n"), STUCK),
    "malformed chunk size": (post_test(CHUNKED, b"zz\r\n[]\r\n0\r\n\r\n"), STUCK),
    "chunk longer than its size": (post_test(CHUNKED, b"1\r\n[]\r\n0\r\n\r\n"), STUCK),
    "content-length and chunked together": (post_test(b"Content-Length: 2\r\n" + CHUNKED, b"0\r\n\r\n"), STUCK),
    # A route that reads no body answers; it need not wait for the body.
    "GET with a body shorter than its content-length": (
        b"GET /health HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc", {200} | STUCK),
}
# Refused on its Content-Length alone: no wait for a body that cannot be served.
REFUSED_UNREAD = {"content-length over the limit, no body sent"}


def framed_answer(url: str, request: bytes, bound: float) -> tuple[int | str | None, float]:
    """The request with a Host line after its request line: the answer's
    status (None when the server closed without one, "no answer" past
    `bound`) and how long it took."""
    line, _, rest = request.partition(b"\r\n")
    request = line + f"\r\nHost: {urlsplit(url).netloc}\r\n".encode() + rest
    started = time.monotonic()
    try:
        status: int | str | None = raw_http.exchange(url, request, timeout=bound).status
    except ConnectionError:
        status = None
    except TimeoutError:
        status = "no answer"
    return status, time.monotonic() - started


@pytest.fixture(scope="module")
def framed_answers(stack) -> Iterator[dict[tuple[str, str], Future]]:
    """Every row on every service at once: the stuck ones wait out the body bound once, not per row."""
    known = [service for service in SERVICES if service in stack.service_urls]
    with ThreadPoolExecutor(max_workers=len(known) * len(FRAMING)) as pool:
        yield {(service, case): pool.submit(framed_answer, stack.service_urls[service], request, BODY_READ_BOUND + 5)
               for service in known for case, (request, _) in FRAMING.items()}


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("case", FRAMING)
def test_body_framing(stack, service, case, framed_answers):
    stack.require_conformance_endpoint()  # the one route that reads a body
    url = stack.service_urls[service]
    status, took = framed_answers[(service, case)].result()
    assert took < BODY_READ_BOUND + 5 and status != "no answer", f"still waiting after {took:.1f}s"
    assert status in FRAMING[case][1], f"answered {status}"
    if case in REFUSED_UNREAD:
        assert took < BODY_READ_BOUND, f"answered after {took:.1f}s: it waited for the body it refuses"
    assert requests.get(f"{url}/health", timeout=5).status_code == 200

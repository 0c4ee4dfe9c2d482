"""docs/contract.md, "Input rules": method, path, X-Hop-Count and body, each by its own table, in the contract's order."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest

from app.errors import InvalidHopCount
from app.request_context import parse_hop_count
from tests.span_queries import only_server_span

GET_ONLY = {"GET", "HEAD"}
POST_ONLY = {"POST"}

# (method, target as sent, status, error code, Allow of a 405)
ROUTING = [
    ("GET", "/health", 200, None, None),
    ("HEAD", "/health", 200, None, None),
    ("GET", "/api/process?fail=false", 200, None, None),
    # one spelling per route
    ("GET", "/health/", 404, "not_found", None),
    ("GET", "//health", 404, "not_found", None),
    ("GET", "/api/process//", 404, "not_found", None),
    ("GET", "/Health", 404, "not_found", None),
    ("GET", "/api/Process", 404, "not_found", None),
    ("GET", "/health;x=1", 404, "not_found", None),
    ("GET", "/health;", 404, "not_found", None),
    ("GET", "/api%2fprocess", 404, "not_found", None),
    ("GET", "/heal%74h", 404, "not_found", None),
    ("GET", "/%68ealth", 404, "not_found", None),
    ("GET", "/health%20", 404, "not_found", None),
    ("GET", "/no/such/route", 404, "not_found", None),
    # a wrong spelling is not the route, whatever the method
    ("DELETE", "/health/", 404, "not_found", None),
    ("POST", "/api%2fprocess", 404, "not_found", None),
    # known path, wrong method
    ("POST", "/health", 405, "method_not_allowed", GET_ONLY),
    ("DELETE", "/api/process", 405, "method_not_allowed", GET_ONLY),
    ("PUT", "/api/demo/circular", 405, "method_not_allowed", GET_ONLY),
    ("PATCH", "/api/error", 405, "method_not_allowed", GET_ONLY),
    ("OPTIONS", "/health", 405, "method_not_allowed", GET_ONLY),
    ("GET", "/test", 405, "method_not_allowed", POST_ONLY),
    ("TRACE", "/health", 405, "method_not_allowed", GET_ONLY),
    # a method no service implements, on any path
    ("get", "/health", 501, "not_implemented", None),
]


@pytest.mark.parametrize(("method", "target", "status", "error", "allow"), ROUTING,
                         ids=[f"{m} {t}" for m, t, *_ in ROUTING])
def test_routing(client, spans, method, target, status, error, allow):
    response = client.open(target, method=method)

    assert response.status_code == status
    # Werkzeug lists the methods in set order, which varies between processes.
    assert (set(response.headers["Allow"].split(", ")) if "Allow" in response.headers else None) == allow
    if method == "HEAD":
        assert response.data == b""
    else:
        body = response.get_json()
        assert body.get("error") == error
        assert body["trace_id"] == response.headers["X-Trace-ID"]
    if unquote(urlsplit(target).path) == "/health":
        # docs/contract.md, "Logs": the path /health, compared decoded, is never traced.
        assert spans.get_finished_spans() == ()
        return
    server = only_server_span(spans)
    # A refused spelling matched no route, so its span has none either.
    if status == 404:
        assert "http.route" not in server.attributes


def test_every_get_route_serves_head_and_no_route_serves_options(client):
    rules = list(client.application.url_map.iter_rules())
    assert all("HEAD" in rule.methods for rule in rules if "GET" in rule.methods)
    assert not [rule.rule for rule in rules if "OPTIONS" in rule.methods]


CONTRACT_ROUTES = {
    ("GET", "/health"), ("GET", "/api/process"), ("GET", "/api/demo/circular"), ("GET", "/api/error"),
    ("GET", "/api/auth-error"), ("GET", "/api/rate-limit-error"), ("GET", "/api/dependency-error"),
    ("POST", "/test"),
}


def test_the_routes_are_the_contracts(client):
    """POST /test is the only POST route; nothing else (no static files) is served."""
    served = {(method, rule.rule) for rule in client.application.url_map.iter_rules()
              for method in rule.methods - {"HEAD"}}
    assert served == CONTRACT_ROUTES


# X-Hop-Count as the app receives it: the server has removed the optional
# white space around the value and joined repeated lines with a comma.
HOP_COUNTS = [
    (None, 0),
    ("0", 0),
    ("5", 5),
    ("007", 7),
    ("999", 999),
    ("000", 0),
    ("", None),
    ("1000", None),
    ("0000", None),
    ("9" * 10, None),
    ("9" * 5000, None),
    ("-1", None),
    ("+1", None),
    ("1.0", None),
    ("1e2", None),
    ("0x1", None),
    ("abc", None),
    (" 4", None),
    ("4 ", None),
    ("1 2", None),
    ("1,1", None),
    ("1, 1", None),
    ("\u0663", None),  # ARABIC-INDIC DIGIT THREE: a digit, but not an ASCII one
    ("\uff11", None),  # FULLWIDTH DIGIT ONE
]


@pytest.mark.parametrize(("value", "expected"), HOP_COUNTS)
def test_hop_count_grammar(value, expected):
    if expected is None:
        with pytest.raises(InvalidHopCount):
            parse_hop_count(value)
    else:
        assert parse_hop_count(value) == expected

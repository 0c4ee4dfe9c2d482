"""docs/contract.md, "Secrets never stored": no credential on a server or client span, or in a log line."""

from __future__ import annotations

import pytest
from opentelemetry.trace import SpanKind

from redaction import CREDENTIAL_PARAMETERS, redact_query, redact_text
from tests.span_queries import of_kind, only_server_span

SECRET = "s3cr3t-VALUE"

# query -> redacted query
QUERIES = [
    ("", ""),
    ("delay_ms=5&fail=false", "delay_ms=5&fail=false"),
    (f"token={SECRET}", "token=REDACTED"),
    (f"TOKEN={SECRET}", "TOKEN=REDACTED"),
    (f"Api_Key={SECRET}&delay_ms=5", "Api_Key=REDACTED&delay_ms=5"),
    (f"a=1&password={SECRET}&b=2", "a=1&password=REDACTED&b=2"),
    (f"key={SECRET}&key={SECRET}", "key=REDACTED&key=REDACTED"),
    ("token=", "token=REDACTED"),
    ("token", "token=REDACTED"),
    (f"%74oken={SECRET}", "%74oken=REDACTED"),  # the name is compared decoded
    (f"api+key={SECRET}", f"api+key={SECRET}"),  # "api key" is not "api_key"
    (f"tokens={SECRET}&mytoken={SECRET}", f"tokens={SECRET}&mytoken={SECRET}"),  # whole names only
    (f"q=token%3D{SECRET}", f"q=token%3D{SECRET}"),  # a value that mentions a name is just a value
    (f"sig={SECRET}&Signature={SECRET}&X-Other=1", "sig=REDACTED&Signature=REDACTED&X-Other=1"),
    (f"&&session={SECRET}&", "&&session=REDACTED&"),
]


@pytest.mark.parametrize(("query", "expected"), QUERIES)
def test_redact_query(query, expected):
    assert redact_query(query) == expected


@pytest.mark.parametrize("name", sorted(CREDENTIAL_PARAMETERS))
def test_every_listed_name_is_redacted_in_any_case(name):
    for spelling in (name, name.upper(), name.title()):
        assert redact_query(f"{spelling}={SECRET}") == f"{spelling}=REDACTED"


# URL, request target or message quoting one -> redacted
TEXTS = [
    ("http://h:1/p", "http://h:1/p"),
    ("is it? yes", "is it? yes"),
    (f"http://h/p?token={SECRET}", "http://h/p?token=REDACTED"),
    (f"http://h/p?a=1&secret={SECRET}#frag", "http://h/p?a=1&secret=REDACTED#frag"),
    (f"/api/process?client_secret={SECRET}", "/api/process?client_secret=REDACTED"),
    (f"Max retries exceeded with url: /p?sig={SECRET} (Caused by X)", "Max retries exceeded with url: /p?sig=REDACTED (Caused by X)"),
    (f"'GET /a?pwd={SECRET}' and \"/b?auth={SECRET}&x=1\"", "'GET /a?pwd=REDACTED' and \"/b?auth=REDACTED&x=1\""),
]


@pytest.mark.parametrize(("text", "expected"), TEXTS)
def test_redact_text(text, expected):
    assert redact_text(text) == expected


def attribute_values(span) -> str:
    """Every text of a span that could quote a URL."""
    return (repr(dict(span.attributes)) + repr([dict(event.attributes or {}) for event in span.events])
            + repr(span.status.description))


@pytest.mark.parametrize("target", [
    f"/api/process?token={SECRET}&delay_ms=1",
    f"/api/process?delay_ms=1&PASSWORD={SECRET}",
    f"/no/such/route?apikey={SECRET}",
    f"/api/process?delay_ms=abc&auth={SECRET}",  # a 400
    f"/api/process?fail=true&Session={SECRET}",  # a 500
])
def test_server_span_and_logs_carry_no_credential(client, spans, log_lines, target):
    response = client.get(target, headers={"Authorization": f"Bearer {SECRET}", "Cookie": f"session={SECRET}"})

    server = only_server_span(spans)
    assert SECRET not in attribute_values(server)
    assert "REDACTED" in server.attributes["url.query"]
    assert response.status_code in (200, 400, 404, 500)
    assert not [line for line in log_lines() if SECRET in repr(line) or "?" in line.get("route", "")]


def test_client_span_url_is_redacted(client, spans, log_lines, recording_server):
    calls = [{"url": f"{recording_server.url}/callback?access_token={SECRET}&x=1", "arguments": []},
             {"url": f"http://127.0.0.1:9/unreachable?sig={SECRET}", "arguments": []}]

    assert client.post("/test", json=calls).status_code == 200

    client_spans = of_kind(spans, SpanKind.CLIENT)
    assert [s.attributes["url.full"] for s in client_spans] == [
        f"{recording_server.url}/callback?access_token=REDACTED&x=1", "http://127.0.0.1:9/unreachable?sig=REDACTED"]
    # The failed call quotes the URL in its exception event and its status description.
    assert [e.name for e in client_spans[1].events] == ["exception"]
    assert "sig=REDACTED" in client_spans[1].status.description
    assert not [s for s in client_spans if SECRET in attribute_values(s)]
    # The callee still gets what it was sent: only the telemetry is redacted.
    assert recording_server.requests[0].path == f"/callback?access_token={SECRET}&x=1"
    assert not [line for line in log_lines() if SECRET in repr(line)]

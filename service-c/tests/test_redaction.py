"""docs/contract.md, "Secrets never stored": no credential on a server or client span, or in a log line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from opentelemetry.trace import SpanKind

from app.telemetry.redaction import CREDENTIAL_PARAMETERS, redact
from tests.span_queries import of_kind, only_server_span

SECRET = "s3cr3t-VALUE"
# The contract's names and its table of examples, shared with the other services and the Collector.
RULE = json.loads((Path(__file__).resolve().parents[2] / "observability" / "credential-redaction.json").read_text())


def test_the_list_is_the_contracts():
    assert sorted(CREDENTIAL_PARAMETERS) == sorted(RULE["names"])


@pytest.mark.parametrize("case", RULE["cases"], ids=lambda case: case["why"])
def test_redact(case):
    assert redact(case["text"]) == case["redacted"]


@pytest.mark.parametrize("name", sorted(CREDENTIAL_PARAMETERS))
def test_every_listed_name_is_redacted_in_any_case(name):
    for spelling in (name, name.upper(), name.title()):
        assert redact(f"{spelling}={SECRET}") == f"{spelling}=REDACTED"


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

"""docs/contract.md, "Secrets never stored", the part this service decides: no
request header reaches a span and no log line carries a credential. Query
values go on the spans as received; the Collector redacts them
(tests/e2e/test_65_secrets.py)."""

from __future__ import annotations

import pytest
from opentelemetry.trace import SpanKind

from tests.span_queries import of_kind, only_server_span

SECRET = "s3cr3t-VALUE"
HEADER_SECRET = "s3cr3t-HEADER"


def span_texts(span) -> str:
    """Every text a span exports."""
    return (repr(dict(span.attributes)) + repr([dict(event.attributes or {}) for event in span.events])
            + repr(span.status.description))


@pytest.mark.parametrize("target", [
    f"/api/process?token={SECRET}&delay_ms=1",
    f"/api/process?delay_ms=1&PASSWORD={SECRET}",
    f"/no/such/route?apikey={SECRET}",
    f"/api/process?delay_ms=abc&auth={SECRET}",  # a 400
    f"/api/process?fail=true&Session={SECRET}",  # a 500
])
def test_no_header_on_the_server_span_and_no_credential_in_a_log_line(client, spans, log_lines, target):
    response = client.get(target, headers={"Authorization": f"Bearer {HEADER_SECRET}",
                                           "Cookie": f"session={HEADER_SECRET}"})

    assert response.status_code in (200, 400, 404, 500)
    assert HEADER_SECRET not in span_texts(only_server_span(spans))
    assert not [line for line in log_lines()
                if SECRET in repr(line) or HEADER_SECRET in repr(line) or "?" in line.get("route", "")]


def test_urls_are_recorded_as_sent_and_in_no_log_line(client, spans, log_lines, recording_server):
    # `sig` makes the instrumentation re-encode the query; the `?` and `;` must stay for the Collector's rule.
    sent = f"{recording_server.url}/callback?sig={SECRET}&next=/a?token={SECRET}&x=1;secret={SECRET}"
    calls = [{"url": sent, "arguments": []},
             {"url": f"http://127.0.0.1:9/unreachable?sig={SECRET}", "arguments": []}]

    assert client.post("/test", json=calls).status_code == 200

    assert of_kind(spans, SpanKind.CLIENT)[0].attributes["url.full"] == sent

    # The failed call quotes its URL in its exception event and status description, for the Collector to redact.
    failed = of_kind(spans, SpanKind.CLIENT)[1]
    assert [e.name for e in failed.events] == ["exception"] and "/unreachable?sig=" in failed.status.description
    assert not [line for line in log_lines() if SECRET in repr(line)]

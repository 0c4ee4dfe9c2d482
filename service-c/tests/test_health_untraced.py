"""docs/contract.md, "Logs": no request for the path /health is traced, whatever
its method, query or answer (FlaskInstrumentor's excluded_urls); the answer is
the same but for what a server span would supply. Other spellings of the path
are 404s, traced as before."""

from __future__ import annotations

import pytest

from tests.span_queries import only_server_span

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

# (method, target, request headers, status, traced)
CASES = [
    ("GET", "/health", {}, 200, False),
    ("HEAD", "/health", {}, 200, False),
    ("GET", "/health?probe=kubelet", {}, 200, False),
    ("GET", "/health", {"traceparent": PARENT}, 200, False),
    ("GET", "/health", {"X-Hop-Count": "99"}, 508, False),
    ("POST", "/health", {}, 405, False),
    ("GET", "/%68ealth", {}, 404, False),  # the instrumentation sees the path decoded
    ("GET", "/health/", {}, 404, True),
    ("GET", "//health", {}, 404, True),
    ("GET", "/health%3F", {}, 404, True),
]


@pytest.mark.parametrize(("method", "target", "headers", "status", "traced"), CASES,
                         ids=[f"{m} {t} {h}" for m, t, h, *_ in CASES])
def test_health_is_never_traced(client, spans, log_lines, method, target, headers, status, traced):
    response = client.open(target, method=method, headers=headers)

    assert response.status_code == status
    if traced:
        only_server_span(spans)
        return
    assert spans.get_finished_spans() == ()
    assert "traceresponse" not in response.headers
    if method != "HEAD":
        body = response.get_json()
        assert (body["service"], body["trace_id"]) == ("service-c", response.headers["X-Trace-ID"])
        assert body["otel_trace_id"] == "0" * 32
        assert status != 200 or body["status"] == "ok"
    # A failing check is logged, without span ids; a passing one is not.
    lines = [line for line in log_lines() if line["message"] == "request completed"]
    assert len(lines) == (1 if status >= 400 else 0)
    assert all((line["trace_id"], line["span_id"]) == ("", "") for line in lines)

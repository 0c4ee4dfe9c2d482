"""docs/contract.md, "Secrets never stored": credentials sent in headers and in
query strings, through every route of the gateway and to every service
directly, never appear in the trace store's copy of those traces nor in any
log file. Each secret is a fresh random string, so finding it anywhere is a
leak and cannot be a coincidence."""

from __future__ import annotations

import secrets
import time
from urllib.parse import urlencode

import pytest
import requests

from tests.support.ids import OTEL_TRACE_ID
from tests.support.recording_server import RecordingServer
from tests.support.store_waits import complete, wait_for_trace
from tools.native.stack import SERVICES
from tools.scenario_table import hop_count, load_scenarios

# Query parameters whose values the contract redacts (any case), and one that stays.
CREDENTIAL_PARAMETERS = ["token", "access_token", "password", "Password", "api_key", "APIKEY", "key", "sig",
                         "secret", "client_secret", "session"]
REDACTED = "REDACTED"
KEPT_PARAMETER = "app_note"


def secret_value() -> str:
    return f"leak{secrets.token_hex(10)}"


class Secrets:
    """One set of credentials for one request; remembers every value it made."""

    def __init__(self) -> None:
        self.values: list[str] = []

    def make(self) -> str:
        value = secret_value()
        self.values.append(value)
        return value

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.make()}", "Cookie": f"session={self.make()}; theme=dark",
                "Proxy-Authorization": f"Basic {self.make()}"}

    def query(self, kept: str) -> str:
        return urlencode({**{name: self.make() for name in CREDENTIAL_PARAMETERS}, KEPT_PARAMETER: kept})


def with_query(path: str, query: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}{query}"


@pytest.fixture(scope="module")
def sent(stack):
    """Every route with credentials attached: (label, otel trace id, expected hops, the kept value, secrets)."""
    runs = []
    kept = f"visible{secrets.token_hex(4)}"
    for scenario in load_scenarios():
        carried = Secrets()
        response = requests.get(stack.gateway_url + with_query(scenario["path"], carried.query(kept)),
                                headers={**scenario.get("headers", {}), **carried.headers()}, timeout=20)
        runs.append((f"gateway {scenario['name']}", response, hop_count(scenario["tree"]), carried))
    for service in SERVICES:
        carried = Secrets()
        response = requests.get(f"{stack.service_urls[service]}/api/process?{carried.query(kept)}",
                                headers=carried.headers(), timeout=20)
        runs.append((f"{service} /api/process", response, 1, carried))
        if not stack.callbacks_reach_this_host:  # compose: a container cannot reach this machine's loopback
            continue
        # An outbound call to a URL with credentials in it: the client span's url.full.
        with RecordingServer() as far_end:
            target = f"{far_end.url}/far?{carried.query(kept)}"
            response = requests.post(f"{stack.service_urls[service]}/test", headers=carried.headers(),
                                     json=[{"url": target, "arguments": []}], timeout=20)
            assert response.status_code == 200 and len(far_end.recorded()) == 1, response.text
        runs.append((f"{service} POST /test", response, 2, carried))
    return kept, runs


def test_every_request_was_answered_with_a_trace_id(sent):
    _, runs = sent
    missing = {label: response.status_code for label, response, _, _ in runs
               if not OTEL_TRACE_ID.match(trace_id_of(response))}
    assert not missing, f"answers without otel_trace_id: {missing}"


def trace_id_of(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        return body.get("otel_trace_id", "")
    traceresponse = response.headers.get("traceresponse", "")  # POST /test answers a bare list
    return traceresponse.split("-")[1] if traceresponse.count("-") == 3 else ""


def test_no_secret_reaches_the_trace_store(stack, sent):
    kept, runs = sent
    leaks, redacted_seen, kept_seen = {}, False, False
    for label, response, hops, carried in runs:
        trace_id = trace_id_of(response)
        wait_for_trace(stack.store, trace_id, complete(hops), timeout=stack.trace_timeout,
                       describe=f"the complete trace of {label}")
        raw = stack.store.raw_trace(trace_id)
        found = [value for value in carried.values if value in raw]
        if found:
            leaks[label] = found
        redacted_seen |= REDACTED in raw
        kept_seen |= kept in raw
    assert not leaks, f"secrets stored in the trace store: {leaks}"
    # The query string itself is still recorded, with only the credentials masked.
    assert redacted_seen and kept_seen, "no span kept a redacted query string: the check above proves nothing"


def test_no_secret_reaches_a_log_file(stack, sent):
    _, runs = sent
    log_dir = stack.log_path("gateway").parent
    values = {value for *_, carried in runs for value in carried.values}
    leaks = {path.name: sorted(v for v in values if v in path.read_text(errors="replace"))
             for path in sorted(log_dir.glob("*.log"))}
    assert {name: found for name, found in leaks.items() if found} == {}, "secrets written to log files"


def test_the_collector_redacts_what_an_instrumentation_missed(stack):
    """The safety net on its own: a span sent straight to the Collector over
    OTLP/HTTP, carrying credentials in every URL attribute the contract names."""
    native = stack.require_native()
    trace_id, leaked = secrets.token_hex(16), secret_value()
    query = f"q=kept&Token={leaked}&api_key={leaked}"
    urls = {"url.query": query, "url.full": f"http://h/p?{query}#frag",
            "http.target": f"/p?{query}", "http.url": f"http://h/p?{query}"}
    now = time.time_ns()
    span = {"traceId": trace_id, "spanId": secrets.token_hex(8), "name": "GET /p", "kind": 2,
            "startTimeUnixNano": str(now), "endTimeUnixNano": str(now + 1_000_000),
            "attributes": [{"key": key, "value": {"stringValue": value}} for key, value in urls.items()]}
    payload = {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "redaction-probe"}}]},
        "scopeSpans": [{"scope": {"name": "tests.e2e"}, "spans": [span]}]}]}
    response = requests.post(f"http://127.0.0.1:{native.ports.collector_otlp_http}/v1/traces",
                             json=payload, timeout=10)
    assert response.status_code == 200, response.text

    stored = wait_for_trace(stack.store, trace_id, lambda trace: trace.spans, timeout=stack.trace_timeout,
                            describe="the probe span")
    attributes = stored.spans[0].attributes
    assert leaked not in stack.store.raw_trace(trace_id)
    assert attributes["url.query"] == "q=kept&Token=REDACTED&api_key=REDACTED", attributes
    assert attributes["url.full"] == "http://h/p?q=kept&Token=REDACTED&api_key=REDACTED#frag", attributes

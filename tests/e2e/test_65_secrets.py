"""docs/contract.md, "Secrets never stored": credentials sent every way a
client can send them never appear in the trace store nor in any file the
stack writes.

They go in headers and in query parameters spelt every way the contract's
rule covers (any case, the cloud providers' signed-URL names, percent-encoded,
padded with spaces, bracketed, after a ';' or a '?' inside a value), through
every route of the gateway, to every service directly, to a POST /test target
and to one that refuses the connection (whose error quotes the URL), and in
requests nginx refuses or cannot pass on (which nginx would quote in its error
log). The services record these as they are; the Collector's transform/redact
is the one place that redacts them. Then the store's
copy of every trace and every file under the folders the stack writes (logs,
the Collector's on-disk queue, nginx's run folder) are searched for them. Each
secret is a fresh random string, so finding it anywhere is a leak and cannot be
a coincidence. Natively Jaeger keeps traces in memory only
(tools/native/jaeger.yaml), so its API is the store's one copy. In compose
the queue and Tempo's blocks live in volumes this test cannot read: the store
is searched through its API, the logs when E2E_LOG_DIR names them."""

from __future__ import annotations

import json
import secrets
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
import requests

from tests.support import raw_http
from tests.support.ids import OTEL_TRACE_ID
from tests.support.logs import json_lines
from tests.support.polling import NotYet, poll_until
from tests.support.recording_server import RecordingServer
from tests.support.refused_requests import bad_chunked, plain, too_large
from tests.support.store_waits import complete, wait_for_trace
from tools.credential_pattern import RULE_FILE
from tools.native.settings import STATE
from tools.native.stack import SERVICES
from tools.scenario_table import hop_count, load_scenarios

# Credential parameters as clients spell them: listed names in other cases,
# the signed-URL names of AWS (SigV4, SigV2), Google Cloud Storage (V4, V2)
# and Azure (SAS), then listed names percent-encoded, padded and bracketed.
CREDENTIAL_SPELLINGS = [
    "token", "access_token", "Password", "APIKEY", "key", "secret", "client_secret", "session",
    "X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "AWSAccessKeyId", "Signature",
    "X-Goog-Signature", "X-Goog-Credential", "GoogleAccessId", "sig",
    "%74oken", "PASS%57ORD", "token%20", "+api_key", "token[]", "token[0]", "sig%5B%5D", "user[password]",
]
REDACTED = "REDACTED"
KEPT_PARAMETER = "app_note"
SIGNED_URL_PARAMETERS = "X-Amz-Date=20130721T201207Z&X-Amz-Expires=86400&sv=2022-11-02"  # not secret: kept


def secret_value() -> str:
    return f"leak{secrets.token_hex(10)}"


class Secrets:
    """The credentials of one request; remembers every value it made."""

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
        """Written by hand: the names must reach the wire exactly as spelt.
        The last two hide a credential from a parser that splits on '&' only:
        re-encoded, its ';' or '?' would be an escape the rule cannot see."""
        credentials = "&".join(f"{name}={self.make()}" for name in CREDENTIAL_SPELLINGS)
        hidden = f"next=/a?token={self.make()}&note=1;secret={self.make()}"
        return f"{credentials}&{SIGNED_URL_PARAMETERS}&{KEPT_PARAMETER}={kept}&{hidden}"


def refused_url() -> str:
    """A loopback URL whose port nobody listens on: a call to it fails at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


UNREACHABLE_PATH = "/unreachable"


def with_query(path: str, query: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}{query}"


@dataclass(frozen=True)
class Traced:
    label: str
    status: int
    trace_id: str  # "" when the answer named none
    hops: int
    carried: Secrets


@dataclass(frozen=True)
class Refused:
    """A request nginx answered itself: no trace, only what nginx writes."""
    label: str
    status: int
    expected_status: int
    x_trace_id: str
    carried: Secrets


# label -> (request builder, gateway path, the status nginx answers, the service stopped first)
REFUSED: dict[str, tuple[Callable[[str], bytes], str, int, str]] = {
    "413 body too large": (too_large, "/service-a/api/process", 413, ""),
    "400 bad chunked body": (bad_chunked, "/service-c/api/process", 400, ""),
    "502 upstream down": (plain, "/service-b/api/process", 502, "service-b"),
}


@dataclass(frozen=True)
class Sent:
    kept: str
    traced: list[Traced]
    refused: list[Refused]

    @property
    def values(self) -> set[str]:
        return {value for run in [*self.traced, *self.refused] for value in run.carried.values}


def get_as_written(base_url: str, target: str, headers: dict[str, str]) -> tuple[int, str]:
    """GET with the target byte for byte (requests and urllib3 would send "["
    as %5B and %74 as "t"); the status and the answer's otel_trace_id."""
    response = raw_http.send(base_url, "GET", target, list(headers.items()), timeout=20)
    body = response.json() if response.is_json() else {}
    return response.status, body.get("otel_trace_id", "") if isinstance(body, dict) else ""


def send_traced(stack, kept: str) -> list[Traced]:
    runs = []
    for scenario in load_scenarios():
        carried = Secrets()
        status, trace_id = get_as_written(stack.gateway_url, with_query(scenario["path"], carried.query(kept)),
                                          {**scenario.get("headers", {}), **carried.headers()})
        runs.append(Traced(f"gateway {scenario['name']}", status, trace_id, hop_count(scenario["tree"]), carried))
    for service in SERVICES:
        if service not in stack.service_urls:  # a stack started elsewhere without its direct ports
            continue
        carried = Secrets()
        status, trace_id = get_as_written(stack.service_urls[service], f"/api/process?{carried.query(kept)}",
                                          carried.headers())
        runs.append(Traced(f"{service} /api/process", status, trace_id, 1, carried))
        if not stack.callbacks_reach_this_host:  # compose: a container cannot reach this machine's loopback
            continue
        # Outbound calls to URLs with credentials in them: the client spans' url.full, and the
        # exception event and status description of the one that fails, which quote its URL.
        carried = Secrets()
        with RecordingServer() as far_end:
            calls = [{"url": f"{far_end.url}/far?{carried.query(kept)}", "arguments": []},
                     {"url": f"{refused_url()}{UNREACHABLE_PATH}?{carried.query(kept)}", "arguments": []}]
            response = requests.post(f"{stack.service_urls[service]}/test", headers=carried.headers(),
                                     json=calls, timeout=20)
            assert response.status_code == 200 and len(far_end.recorded()) == 1, response.text
        traceresponse = response.headers.get("traceresponse", "")  # POST /test answers a bare list
        trace_id = traceresponse.split("-")[1] if traceresponse.count("-") == 3 else ""
        runs.append(Traced(f"{service} POST /test", response.status_code, trace_id, 3, carried))
    return runs


def send_refused(stack, kept: str) -> list[Refused]:
    runs = []
    for label, (build, path, expected_status, stopped) in REFUSED.items():
        if stopped and stack.native is None:
            continue  # stopping a service needs the native runner
        carried = Secrets()
        if stopped:
            stack.native.stop_component(stopped)
        try:
            response = raw_http.exchange(stack.gateway_url, build(f"{path}?{carried.query(kept)}"))
        finally:
            if stopped:
                stack.native.start_component(stopped)
        runs.append(Refused(label, response.status, expected_status, response.header("X-Trace-ID") or "", carried))
    return runs


@pytest.fixture(scope="module")
def sent(stack) -> Sent:
    kept = f"visible{secrets.token_hex(4)}"
    return Sent(kept, send_traced(stack, kept), send_refused(stack, kept))


@pytest.fixture(scope="module")
def stored(stack, sent) -> dict[str, str]:
    """label -> the store's raw copy of that request's trace, once complete;
    by then every span has gone through the Collector and its queue. Also
    waits for the gateway's access-log line of each refused request."""
    traces = {}
    for run in sent.traced:
        wait_for_trace(stack.store, run.trace_id, complete(run.hops), timeout=stack.trace_timeout,
                       describe=f"the complete trace of {run.label}")
        traces[run.label] = stack.store.raw_trace(run.trace_id)
    if stack.log_dir is not None:
        for run in sent.refused:
            poll_until(lambda: any(line.get("x_trace_id") == run.x_trace_id
                                   for line in json_lines(stack.log_path("gateway")))
                       or NotYet("no access-log line yet"), timeout=10, interval=0.2,
                       describe=f"the access-log line of {run.label}")
    return traces


def test_every_request_was_answered_as_expected(sent):
    missing = {run.label: run.status for run in sent.traced if not OTEL_TRACE_ID.match(run.trace_id)}
    assert not missing, f"answers without otel_trace_id: {missing}"
    refused = {run.label: run.status for run in sent.refused if run.status != run.expected_status}
    assert not refused, f"nginx answered otherwise than planned: {refused}"


def test_no_secret_reaches_the_trace_store(sent, stored):
    leaks = {label: [value for value in run.carried.values if value in stored[label]]
             for label, run in ((run.label, run) for run in sent.traced)}
    assert {label: found for label, found in leaks.items() if found} == {}, "secrets stored in the trace store"
    # The query string itself is still recorded, with only the credentials masked.
    everything = "".join(stored.values())
    shown = [sent.kept, "X-Amz-Date=20130721T201207Z", "X-Amz-Signature=REDACTED", "%74oken=REDACTED",
             "token[]=REDACTED", "user[password]=REDACTED", "sig%5B%5D=REDACTED", "next=/a?token=REDACTED",
             "note=1;secret=REDACTED"]
    assert [text for text in shown if text not in everything] == [], \
        "no span kept these redacted spellings: the check proves less than it says"


def test_a_failed_calls_error_text_is_stored_redacted(sent, stored):
    """Go's and urllib3's errors quote the URL of a call that failed, in the
    client span's exception event and status description: both are stored,
    with the credentials redacted and the rest kept."""
    traces = [json.loads(stored[run.label]) for run in sent.traced if run.label.endswith("POST /test")]
    if not traces:
        pytest.skip("no POST /test call was made (the services cannot reach this machine)")
    quoting = {"status description": [m for t in traces for m in status_messages(t) if UNREACHABLE_PATH in m],
               "exception event": [m for t in traces for m in exception_texts(t) if UNREACHABLE_PATH in m]}
    assert all(quoting.values()), f"no stored error text quotes the failed call's URL: {quoting}"
    unredacted = [text for texts in quoting.values() for text in texts
                  if not all(shown in text for shown in ("X-Amz-Signature=REDACTED", f"{KEPT_PARAMETER}={sent.kept}"))]
    assert unredacted == [], "error texts without the redacted query"


def files_under(folders: list[Path]) -> list[Path]:
    return sorted(path for folder in folders if folder.is_dir() for path in folder.rglob("*") if path.is_file())


def test_no_secret_reaches_any_file_the_stack_writes(stack, sent, stored):
    files = files_under(stack.written_folders)
    if not files:
        pytest.skip("no folder the stack writes is readable here (set E2E_LOG_DIR for the logs)")
    values = [value.encode() for value in sent.values]
    leaks = {str(path): sorted(v.decode() for v in values if v in data)
             for path in files if (data := path.read_bytes())}
    assert {path: found for path, found in leaks.items() if found} == {}, "secrets written to files"


def test_the_file_search_reads_the_collectors_queue(stack, sent, stored):
    """What makes the search above worth something natively: the queue holds
    the batches that carried these requests' spans, and is read."""
    stack.require_native()
    queue_files = files_under([STATE])
    assert queue_files, f"no Collector queue file under {STATE}"
    assert any(sent.kept.encode() in path.read_bytes() for path in queue_files), \
        f"the kept query value {sent.kept} is in none of {[str(p) for p in queue_files]}"


def rule_cases() -> list[tuple[str, str]]:
    """(text, redacted) from the contract's shared table, and every listed name in two cases."""
    rule = json.loads(RULE_FILE.read_text())
    named = [(f"{spelling}=S3CR3T", f"{spelling}={REDACTED}")
             for name in rule["names"] for spelling in (name, name.upper())]
    return [(case["text"], case["redacted"]) for case in rule["cases"]] + named


def test_the_collector_redacts_what_an_instrumentation_missed(stack):
    """The safety net on its own, against the contract's table: sent straight
    to the Collector over OTLP/HTTP, a span with every case as an attribute
    and one in its status description, and a second span with every case in
    an event (a span without events matters: a transform group naming span
    events runs only per event)."""
    native = stack.require_native()
    cases = rule_cases()
    trace_id = secrets.token_hex(16)
    attributes = [{"key": f"case.{index}", "value": {"stringValue": text}} for index, (text, _) in enumerate(cases)]
    now = time.time_ns()

    def span(name: str, **fields) -> dict:
        return {"traceId": trace_id, "spanId": secrets.token_hex(8), "name": name, "kind": 2,
                "startTimeUnixNano": str(now), "endTimeUnixNano": str(now + 1_000_000), **fields}

    payload = {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "redaction-probe"}}]},
        "scopeSpans": [{"scope": {"name": "tests.e2e"}, "spans": [
            span("attributes", attributes=attributes, status={"code": 2, "message": "GET /p?sig=S3CR3T failed"}),
            span("event", events=[{"name": "exception", "timeUnixNano": str(now), "attributes": attributes}]),
        ]}]}]}
    response = requests.post(f"http://127.0.0.1:{native.ports.collector_otlp_http}/v1/traces",
                             json=payload, timeout=10)
    assert response.status_code == 200, response.text

    stored = wait_for_trace(stack.store, trace_id, lambda trace: len(trace.spans) == 2 or NotYet("not both spans"),
                            timeout=stack.trace_timeout, describe="the probe spans")
    by_name = {span.name: span for span in stored.spans}
    expected = {f"case.{index}": redacted for index, (_, redacted) in enumerate(cases)}
    wrong = {key: (by_name["attributes"].attributes.get(key), want) for key, want in expected.items()
             if by_name["attributes"].attributes.get(key) != want}
    assert wrong == {}, "span attributes: (stored, expected)"
    event = by_name["event"].events_named("exception")[0].attributes
    wrong = {key: (event.get(key), want) for key, want in expected.items() if event.get(key) != want}
    assert wrong == {}, "span event attributes: (stored, expected)"
    assert status_messages(json.loads(stack.store.raw_trace(trace_id))) == ["GET /p?sig=REDACTED failed"]


def exception_texts(node) -> list[str]:
    """The string attribute values of every exception event in a store's OTLP JSON answer."""
    if isinstance(node, list):
        return [text for item in node for text in exception_texts(item)]
    if not isinstance(node, dict):
        return []
    own = [attribute["value"]["stringValue"] for event in node.get("events") or []
           if isinstance(event, dict) and event.get("name") == "exception"
           for attribute in event.get("attributes") or [] if "stringValue" in attribute.get("value", {})]
    return own + [text for key, value in node.items() if key != "events" for text in exception_texts(value)]


def status_messages(node) -> list[str]:
    """Every span status description in a store's OTLP JSON answer."""
    if isinstance(node, list):
        return [message for item in node for message in status_messages(item)]
    if not isinstance(node, dict):
        return []
    own = [node["status"]["message"]] if isinstance(node.get("status"), dict) and "message" in node["status"] else []
    return own + [message for key, value in node.items() if key != "status" for message in status_messages(value)]

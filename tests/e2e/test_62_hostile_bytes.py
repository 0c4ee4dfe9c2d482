"""Bytes that are not text, in every place a request controls, get a JSON
answer and never stop span export (docs/contract.md: "Errors are JSON",
"Nothing a request sends can make a batch unencodable"; issue 17 §1, §5).

Before those fixes one request such as GET /service-a/t%c1%a5st stopped
service-a's export for OTEL_BSP_EXPORT_TIMEOUT (5 min): protobuf refused the
invalid UTF-8 on a span, and the batch was retried while every later span
waited. And raw bytes in a path got an empty 400 from service-b and an HTML
page quoting the request line from service-c, through the gateway too.

Each case sends one hostile request, through the gateway or to a service's
own port, then at once the next normal request (the parallel scenario, which
crosses all three services), and checks the answers:
- an answer (never a hang, never a close without one), no 5xx but the
  input rules' 501 for a method no service implements;
- JSON, whatever the status, also when a service's HTTP server refuses the
  request before its app (docs/contract.md, "Errors are JSON").
The last test then checks, for every case, what needs the trace store:
- when a service answered the hostile request (`traceresponse`), that server
  span reached the store;
- the next normal request's whole trace is in the store;
- no service logged `span export failing` or `span batch dropped`.
Waiting for each case's traces in turn took ~2 s a case (the Collector's
decision wait); waiting once for all of them keeps the table wide. A stalled
exporter holds every later span for minutes, and a dropped batch takes its
neighbours' spans with it, so the last test still names the first case
whose traces did not arrive. (`-k` must keep that test: it is the export
check.) tests/e2e/test_90_log_files.py checks afterwards that every line of
every process is still valid UTF-8 JSON.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from urllib.parse import quote_from_bytes, urlsplit

import pytest
import requests

from tests.stores.model import Trace
from tests.support import raw_http
from tests.support.polling import NotYet
from tests.support.store_waits import complete, wait_for_trace
from tests.support.trace_tree import tree_differences
from tools.native.stack import SERVICES
from tools.scenario_table import hop_count, load_scenarios

ANSWER_TIMEOUT = 20.0
# docs/contract.md, "Input rules": any other method is 501 not_implemented.
KNOWN_METHODS = {b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"OPTIONS", b"TRACE", b"PATCH"}
TRACERESPONSE = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
# docs/contract.md, "span export failing" and "span batch dropped".
EXPORT_TROUBLE = {"span export failing", "span export still failing", "span batch dropped"}
NORMAL = next(scenario for scenario in load_scenarios() if scenario["name"] == "parallel")
FRESH_PARENT = b"<a fresh traceparent>"  # replaced per request, so no two cases share a trace
VALID_PARENT = b"00-" + b"a" * 32 + b"-" + b"b" * 16 + b"-01"
# docs/contract.md, "Nothing a request sends can make a batch unencodable":
# the User-Agent bytes ff fe as each service's server span stores them.
USER_AGENT_CASE = "User-Agent bad\\xff\\xfe (issue 17)"
STORED_USER_AGENT = {"service-a": "bad\uFFFD", "service-b": "bad\u00ff\u00fe", "service-c": "bad\u00ff\u00fe"}


@dataclass(frozen=True)
class Hostile:
    target: bytes = b"/api/process"  # below the service's root; the gateway adds /service-x
    method: bytes = b"GET"
    headers: tuple[tuple[str, bytes], ...] = ()
    host: bytes | None = None  # a Host line of its own instead of the server's address
    body: bytes = b""
    absolute_form: bool = False  # the request line names http://<server> before the target

    @property
    def direct_only(self) -> bool:
        return self.method == b"POST"  # POST /test is on a service's own port only


def post_test(url: bytes, arguments: bytes = b"[]") -> Hostile:
    """POST /test with one call; the url lands on a CLIENT span, and in the
    exception when the call fails."""
    body = b'[{"url": "' + url + b'", "arguments": ' + arguments + b"}]"
    return Hostile(b"/test", b"POST", (("Content-Type", b"application/json"),), body=body)


REFUSED = b"http://127.0.0.1:9/"  # nothing listens: the call fails at once

# Cases named in issue 17 and ones no place x bytes pair below covers.
SINGLE_ROWS = {
    "path overlong %c1%a5 (issue 17)": Hostile(b"/t%c1%a5st"),
    "path %ff%fe (issue 17)": Hostile(b"/api/%ff%fe"),
    "path overlong slash %c0%af": Hostile(b"/api%c0%afprocess"),
    "path raw bytes": Hostile(b"/api/\xff\xfe\xc1\xa5\xed\xa0\x80"),
    "query name and value %-encoded": Hostile(b"/api/process?%ff%fe=%c1%a5&q=%ed%a0%80"),
    "delay_ms not text": Hostile(b"/api/process?delay_ms=%ff%fe"),
    "fail not text": Hostile(b"/api/process?fail=%c1%a5"),
    "secret parameter not text": Hostile(b"/api/process?token=%ff%fe&%c0%af=1"),
    "unknown method on a path not text": Hostile(b"/api/%ff%fe", method=b"BREW"),
    "absolute-form target not text": Hostile(b"/api/%ff%fe?q=%c1%a5", absolute_form=True),
    "absolute-form target raw bytes": Hostile(b"/api/\xff\xfe", absolute_form=True),
    USER_AGENT_CASE: Hostile(headers=(("User-Agent", b"bad\xff\xfe"),)),
    "conflicting traceparent not text": Hostile(headers=(("traceparent", FRESH_PARENT),
                                                         ("traceparent", b"00-\xff\xfe\xed\xa0\x80"))),
    "tracestate key not text": Hostile(headers=(("traceparent", FRESH_PARENT), ("tracestate", b"\xc1\xa5=1,k=v"))),
    "Expect not text": Hostile(headers=(("Expect", b"\xff\xfe"),)),
    # POST /test bodies (JSON escapes that are no text, and raw bytes)
    "body url lone surrogate": post_test(REFUSED + b"\\ud800"),
    "body url password lone surrogate": post_test(b"http://u:\\ud800@127.0.0.1:9/"),
    "body arguments lone surrogates": post_test(REFUSED, b'["\\ud800", {"\\udfff": "x\\udbff"}]'),
    "body url invalid bytes": post_test(REFUSED + b"\xff\xfe\xc0\xaf"),
    "body arguments invalid bytes": post_test(REFUSED, b'["\xed\xa0\x80\xff"]'),
}

# Bytes that are not (valid) text: invalid UTF-8, then control bytes.
ODD_BYTES = {
    "ff fe": b"\xff\xfe",
    "overlong c1 a5": b"\xc1\xa5",
    "lone surrogate ed a0 80": b"\xed\xa0\x80",
    "cut short e2 82": b"x\xe2\x82",
    "latin1 e9": b"caf\xe9",
    "NUL": b"\x00",
    "ESC 1b": b"\x1b[31m",
    "DEL 7f": b"\x7f",
}

# Every place a request controls; the path both raw and percent-encoded (as
# the bytes reach span names and routes decoded), the query raw in a name and
# encoded in a value.
PLACES = {
    "method": lambda odd: Hostile(method=b"G" + odd + b"T"),
    "path raw": lambda odd: Hostile(b"/api/" + odd),
    "path %-encoded": lambda odd: Hostile(b"/api/" + quote_from_bytes(odd).encode()),
    "query name raw": lambda odd: Hostile(b"/api/process?" + odd + b"=1"),
    "query value %-encoded": lambda odd: Hostile(b"/api/process?q=" + quote_from_bytes(odd).encode()),
    "Host": lambda odd: Hostile(host=b"h" + odd),
    "User-Agent": lambda odd: Hostile(headers=(("User-Agent", odd),)),
    "X-Trace-ID": lambda odd: Hostile(headers=(("X-Trace-ID", b"abc" + odd),)),
    "traceparent": lambda odd: Hostile(headers=(("traceparent", VALID_PARENT[:-2] + odd),)),
    "tracestate value": lambda odd: Hostile(headers=(("traceparent", FRESH_PARENT), ("tracestate", b"k=v" + odd))),
    "X-Forwarded-For": lambda odd: Hostile(headers=(("X-Forwarded-For", b"192.0.2.1" + odd),)),
    "X-Hop-Count": lambda odd: Hostile(headers=(("X-Hop-Count", odd),)),
    "a header no one reads": lambda odd: Hostile(headers=(("X-Anything", odd),)),
}

ROWS = {**SINGLE_ROWS, **{f"{place} {name}": make(odd) for place, make in PLACES.items()
                          for name, odd in ODD_BYTES.items()}}
TARGETS = [f"gateway->{service}" for service in SERVICES] + [f"direct->{service}" for service in SERVICES]

def cases() -> list:
    return [pytest.param(name, target, id=f"{name} | {target}")
            for name, row in ROWS.items() for target in TARGETS
            if not (row.direct_only and target.startswith("gateway"))]


def fresh_traceparent() -> bytes:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01".encode()


def send(stack, row: Hostile, target: str) -> raw_http.RawResponse:
    via, service = target.split("->")
    base_url = stack.gateway_url if via == "gateway" else stack.service_urls[service]
    path = (f"/{service}".encode() if via == "gateway" else b"") + row.target
    if row.absolute_form:
        path = f"http://{urlsplit(base_url).netloc}".encode() + path
    headers = [(name, value.replace(FRESH_PARENT, fresh_traceparent())) for name, value in row.headers]
    try:
        return raw_http.send(base_url, row.method, path, headers, body=row.body, host=row.host,
                             timeout=ANSWER_TIMEOUT)
    except TimeoutError:
        pytest.fail(f"no answer within {ANSWER_TIMEOUT:.0f}s")
    except ConnectionError as error:
        pytest.fail(f"connection closed without an answer ({error!r})")


@dataclass(frozen=True)
class Sent:
    """What one case left for the last test to find in the store and the logs."""
    case: str
    answer: str
    hostile_span: tuple[str, str, str] | None  # (trace id, span id, service) when a service answered
    normal_trace_id: str
    normal_x_trace_id: str
    log_offsets: dict[str, int]  # each service log's size before the case


SENT: list[Sent] = []


def log_sizes(stack) -> dict[str, int]:
    """Each service log's size; none when the logs are unknown (a stack started
    elsewhere without E2E_LOG_DIR), which skips the log check."""
    if stack.log_dir is None:
        return {}
    paths = {service: stack.log_path(service) for service in SERVICES}
    return {service: path.stat().st_size if path.exists() else 0 for service, path in paths.items()}


@pytest.mark.parametrize("name, target", cases())
def test_hostile_bytes_get_a_json_answer(stack, name, target):
    row, service = ROWS[name], target.split("->")[1]
    offsets = log_sizes(stack)

    response = send(stack, row, target)
    answer = f"{response.status} {response.body[:200]!r}"
    assert response.status < 500 or response.status == 501 and row.method not in KNOWN_METHODS, answer
    assert response.is_json(), f"not JSON: {answer}"

    # The next normal request, sent before anything is awaited, queues its
    # spans behind the hostile one's in every service.
    x_trace_id = f"hostile-next-{secrets.token_hex(6)}"
    normal = requests.get(stack.gateway_url + NORMAL["path"], headers={"X-Trace-ID": x_trace_id},
                          timeout=ANSWER_TIMEOUT)
    assert normal.status_code == NORMAL["expect_status"], normal.text[:300]
    assert normal.json()["trace_id"] == x_trace_id, normal.json()

    served = TRACERESPONSE.match(response.header("traceresponse") or "")
    SENT.append(Sent(f"{name} | {target}", answer, (*served.groups(), service) if served else None,
                     normal.json()["otel_trace_id"], x_trace_id, offsets))


def has_span_id(span_id: str):
    def ready(trace: Trace):
        return trace.span(span_id) or NotYet(f"no span {span_id} yet in {trace.summary()}")
    return ready


def export_trouble(stack, since: dict[str, int]) -> dict[str, list[tuple[int, dict]]]:
    """The export failures each service has logged since `since`, with their byte offsets."""
    found = {}
    for service, offset in since.items():
        position, lines = offset, []
        for raw in stack.log_path(service).read_bytes()[offset:].split(b"\n"):
            line = json_line(raw)
            if line.get("message") in EXPORT_TROUBLE:
                lines.append((position, line))
            position += len(raw) + 1
        if lines:
            found[service] = lines
    return found


def json_line(raw: bytes) -> dict:
    """The line's object, or {} for anything else (test_90 reports those)."""
    try:
        line = json.loads(raw)
    except ValueError:
        return {}
    return line if isinstance(line, dict) else {}


def case_at(service: str, position: int) -> str:
    """The last case sent before `service` wrote the byte at `position`."""
    before = [sent for sent in SENT if sent.log_offsets.get(service, 0) <= position]
    return before[-1].case if before else "(before the first case)"


def test_hostile_bytes_leave_span_export_flowing(stack):
    if not SENT:
        pytest.skip("no hostile case ran in this session")
    for sent in SENT:
        if sent.hostile_span:
            trace_id, span_id, service = sent.hostile_span
            trace = wait_for_trace(stack.store, trace_id, has_span_id(span_id), timeout=stack.trace_timeout,
                                   describe=f"[{sent.case}] the server span of the hostile request ({sent.answer})")
            span = trace.span(span_id)
            assert span.service == service, f"[{sent.case}] {span.label()}"
            if sent.case.startswith(USER_AGENT_CASE + " | "):
                assert span.attributes.get("user_agent.original") == STORED_USER_AGENT[service], span.attributes
        trace = wait_for_trace(stack.store, sent.normal_trace_id, complete(hop_count(NORMAL["tree"])),
                               timeout=stack.trace_timeout,
                               describe=f"[{sent.case}] the next normal request's trace ({sent.normal_x_trace_id})")
        problems = tree_differences(NORMAL["tree"], trace, stack.external_dependency_host)
        assert not problems, f"[{sent.case}] " + "\n".join(problems)

    # Every span was exported (or given up) by now, so whatever the services
    # had to say about it is in the logs.
    trouble = export_trouble(stack, SENT[0].log_offsets)
    assert not trouble, {service: [(case_at(service, position), line) for position, line in lines]
                         for service, lines in trouble.items()}

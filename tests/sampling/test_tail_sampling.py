"""Tail sampling keeps what it promises, on the real stack in its production
shape (a routing Collector in front of two samplers): with the baseline at
0 %, under load from the load generator, every trace with an ERROR span and
every trace slower than the threshold is in the store complete, and no
ordinary trace is there at all. (test_full_baseline.py: at the default 100 %
everything is kept.)

The rows are every scenario of scenarios/scenarios.json (kept exactly when its
tree has an error span) plus slow requests that succeed. Each is sent REPEATS
times by this test, and the load generator sends its mix beside them; every
request of both is counted."""

from __future__ import annotations

import random
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests

from tests.chaos.load import incomplete_reason
from tests.stores import TraceStore
from tests.support.load_run import LoadGenerator
from tests.support.polling import NotYet, poll_until
from tools.native.stack import NativeStack
from tools.scenario_table import load_scenarios

pytestmark = pytest.mark.sampling

REPEATS = 3  # each row is sent this many times, all rows shuffled and concurrent
WORKERS = 6
# The load generator beside them: two passes through its mix (load_weight).
LOAD_RATE, LOAD_USERS, LOAD_PASSES, LOAD_DURATION = "10", "6", "2", "180s"
LOAD_TIMEOUT_S = 240.0
REQUEST_TIMEOUT_S = 20.0
DECIDED_TIMEOUT_S = 60.0
COMPLETE_TIMEOUT_S = 30.0
SLOW_THRESHOLD_MS = 1000  # the default SAMPLING_SLOW_THRESHOLD_MS
SLOW_MS = 1500  # a slow request, well above the threshold


def _has_error(node: dict) -> bool:
    return node.get("error", False) or any(_has_error(child) for child in node.get("children", []))


def _slow(service: str) -> dict:
    """A request that succeeds but takes SLOW_MS: kept by the latency policy alone."""
    return {
        "name": f"slow-{service}", "path": f"/{service}/api/process?delay_ms={SLOW_MS}", "expect_status": 200,
        "tree": {"service": service, "kind": "SERVER", "route": "/api/process", "status": 200,
                 "error": False, "exception": False},
    }


# name -> (row, kept): the one table of what tail sampling must do.
ROWS = {s["name"]: (s, _has_error(s["tree"])) for s in load_scenarios()}
ROWS.update({row["name"]: (row, True) for row in map(_slow, ("service-b", "service-c"))})


@dataclass
class Sent:
    name: str
    kept: bool
    status: int | None = None
    otel_trace_id: str = ""


def _send(gateway_url: str, record: Sent) -> Sent:
    row = ROWS[record.name][0]
    session = requests.Session()
    session.trust_env = False
    response = session.get(gateway_url + row["path"], headers=row.get("headers", {}), timeout=REQUEST_TIMEOUT_S)
    record.status = response.status_code
    body = response.json()
    record.otel_trace_id = body.get("otel_trace_id", "") if isinstance(body, dict) else ""
    return record


def _decisions_per_sampler(native: NativeStack) -> list[int]:
    """Traces each sampling Collector has decided (kept or not), from its own
    telemetry: the samplers behind the routing tier, or the one Collector."""
    ports = [s.telemetry for s in native.samplers] or [native.ports.collector_telemetry]
    pattern = re.compile(r"^otelcol_processor_tail_sampling_global_count_traces_sampled(?:_total)?\{[^}]*\} (\S+)$",
                         re.M)
    counts = []
    for port in ports:
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5, proxies={"http": None}).text
        counts.append(int(sum(float(value) for value in pattern.findall(text))))
    return counts


def _decisions(native: NativeStack) -> int:
    return sum(_decisions_per_sampler(native))


def sent_by_the_load_generator(run) -> list[Sent]:
    assert run.result.returncode == 0, run.describe()
    return [Sent(r["scenario"], ROWS[r["scenario"]][1], r["status"], run.otel_trace_id(r)) for r in run.requests]


def send_under_load(native: NativeStack, tmp_path, repeats: int) -> list[Sent]:
    """Every row `repeats` times, shuffled and concurrent, with the load
    generator running beside them; returns every request of both, answered,
    once the sampling Collectors have decided every one of their traces."""
    before = _decisions(native)
    records = [Sent(name, kept) for name, (_, kept) in ROWS.items() for _ in range(repeats)]
    random.Random(10).shuffle(records)
    generator = LoadGenerator(native.gateway_url, tmp_path / "load.jsonl", rate=LOAD_RATE, users=LOAD_USERS,
                              passes=LOAD_PASSES, duration=LOAD_DURATION)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(lambda r: _send(native.gateway_url, r), records))
    records += sent_by_the_load_generator(generator.finish(LOAD_TIMEOUT_S))
    wrong = [(r.name, r.status) for r in records if r.status != ROWS[r.name][0]["expect_status"]]
    assert not wrong, f"requests answered other than designed: {wrong}"
    assert all(r.otel_trace_id for r in records), "a response without a trace id"
    traces = len({r.otel_trace_id for r in records})
    assert traces == len(records), "two requests shared a trace"
    # Every trace decided: after this no span of a dropped trace can still reach the store.
    poll_until(lambda: _decisions(native) - before >= traces
               or NotYet(f"{_decisions(native) - before} of {traces} traces decided"),
               timeout=DECIDED_TIMEOUT_S, interval=0.5, describe="the Collector to decide every trace of the load")
    return records


@pytest.fixture(scope="module")
def load(sampling_stack: NativeStack, tmp_path_factory) -> list[Sent]:
    return send_under_load(sampling_stack, tmp_path_factory.mktemp("sampling"), REPEATS)


def _incomplete(store: TraceStore, record: Sent) -> str:
    return incomplete_reason(store, record, ROWS[record.name][0]["tree"])


@pytest.mark.parametrize("name", [name for name, (_, kept) in ROWS.items() if kept])
def test_kept_trace_is_in_the_store_complete(load, store, name):
    for record in (r for r in load if r.name == name):
        poll_until(lambda: not (why := _incomplete(store, record)) or NotYet(why),
                   timeout=COMPLETE_TIMEOUT_S, interval=0.5,
                   describe=f"{name} trace {record.otel_trace_id} complete ({store.trace_link(record.otel_trace_id)})")


def _duration_ms(trace) -> float:
    return (max(s.end_ns for s in trace.spans) - min(s.start_ns for s in trace.spans)) / 1e6


@pytest.mark.parametrize("name", [name for name, (_, kept) in ROWS.items() if not kept])
def test_ordinary_trace_is_not_in_the_store(load, store, name):
    """Unless it really was slow: on a busy machine an ordinary request can
    take longer than the threshold, and then the slow policy keeps it, rightly."""
    stored = {r.otel_trace_id: store.get_trace(r.otel_trace_id) for r in load if r.name == name}
    wrongly = {trace_id: f"{_duration_ms(trace):.0f} ms" for trace_id, trace in stored.items()
               if trace is not None and _duration_ms(trace) < SLOW_THRESHOLD_MS}
    assert wrongly == {}, f"{name}: fast traces kept at a 0 % baseline: {wrongly}"


def test_every_sampler_behind_the_routing_tier_decides_a_share(load, sampling_stack):
    """The kept traces above were whole although their spans came from three
    services through one router: the router sent each trace's spans to one
    sampler, and each sampler got some."""
    assert len(sampling_stack.samplers) >= 2, "the sampling stack runs without its tier"
    counts = _decisions_per_sampler(sampling_stack)
    assert all(count > 0 for count in counts), f"traces decided per sampler: {counts}"


def test_the_table_has_both_kinds():
    """Neither half of the proof may be empty."""
    kinds = {kept for _, kept in ROWS.values()}
    assert kinds == {True, False}

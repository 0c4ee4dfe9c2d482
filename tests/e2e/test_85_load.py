"""The load generator against the stack: one headless pass through the mix
(`python -m load`, as `make load` runs it) sends every scenario whose
load_weight is above 0, each request answers with its scenario's designed
status, each is a trace of its own, and every one of those traces reaches the
store complete. Counted, not sampled: the run records each X-Trace-ID it sent.

Runs after test_80 (which stops and restarts the Collector): the load goes
through a Collector that has recovered."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.support.ids import OTEL_TRACE_ID
from tests.support.load_run import LoadRun, run_load
from tests.support.store_waits import complete, wait_for_search, wait_for_trace
from tools.scenario_table import hop_count, load_scenarios, load_weight

SCENARIOS = {scenario["name"]: scenario for scenario in load_scenarios()}
WEIGHTS = {name: load_weight(scenario) for name, scenario in SCENARIOS.items()}
# One pass (27 requests today) at a low rate; USERS leaves room for the two
# scenarios that take 2 s. The duration only bounds a run that hangs: the run
# ends when its pass is sent and answered.
RATE, USERS, PASSES, DURATION = "8", "4", "1", "120s"
RUN_TIMEOUT_S = 180


@pytest.fixture(scope="module")
def load_run(stack, tmp_path_factory) -> LoadRun:
    return run_load(stack.gateway_url, tmp_path_factory.mktemp("load") / "requests.jsonl", rate=RATE, users=USERS,
                    passes=PASSES, duration=DURATION, timeout=RUN_TIMEOUT_S)


def test_the_run_ends_cleanly_with_its_summary(load_run):
    assert load_run.result.returncode == 0, load_run.describe()
    summary = load_run.result.stdout[load_run.result.stdout.index("load summary:"):]
    assert f"load summary: {len(load_run.requests)} requests" in summary, summary
    assert " 0 failed (0.0 %)" in summary.splitlines()[0], summary
    rows = {line.split()[0]: line.split() for line in summary.splitlines()[3:] if line.split()}
    sent = {name for name, weight in WEIGHTS.items() if weight > 0}
    assert sent | {"all"} <= set(rows), f"summary rows: {sorted(rows)}"


def test_one_pass_sends_every_scenario_its_weight(load_run):
    sent = Counter(request["scenario"] for request in load_run.requests)
    expected = {name: weight * int(PASSES) for name, weight in WEIGHTS.items() if weight > 0}
    assert dict(sent) == expected, load_run.describe()


def test_every_request_got_its_designed_status(load_run):
    assert load_run.requests, load_run.describe()
    unexpected = [(r["scenario"], r["status"], r["expect_status"]) for r in load_run.requests
                  if r["status"] != SCENARIOS[r["scenario"]]["expect_status"]]
    assert not unexpected, f"(scenario, status, designed status): {unexpected}"


def test_every_request_is_a_trace_of_its_own(load_run):
    assert load_run.requests, load_run.describe()
    x_trace_ids = [r["x_trace_id"] for r in load_run.requests]
    trace_ids = [load_run.otel_trace_id(r) for r in load_run.requests]
    assert all(OTEL_TRACE_ID.match(trace_id) for trace_id in trace_ids), [r["traceresponse"] for r in load_run.requests]
    assert len(set(x_trace_ids)) == len(x_trace_ids)
    assert len(set(trace_ids)) == len(trace_ids), f"requests that shared a trace: {Counter(trace_ids).most_common(3)}"


def test_every_trace_the_run_made_is_complete_in_the_store(load_run, stack):
    assert load_run.requests, load_run.describe()
    for request in load_run.requests:
        name, trace_id = request["scenario"], load_run.otel_trace_id(request)
        expected_hops = hop_count(SCENARIOS[name]["tree"])
        wait_for_trace(stack.store, trace_id, complete(expected_hops), timeout=stack.trace_timeout,
                       describe=f"the complete trace of load request {request['x_trace_id']} ({name})")
        found = wait_for_search(stack.store, request["x_trace_id"], load_run.sent_at)
        assert found == [trace_id], f"{name}: X-Trace-ID {request['x_trace_id']} found in traces {found}"

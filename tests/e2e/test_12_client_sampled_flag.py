"""A client's sampled flag cannot hide a trace (docs/contract.md, "Sampling
decision"): every scenario of scenarios/scenarios.json, sent through the
gateway under a traceparent whose sampled flag is 0, is recorded whole under
the client's trace id and left to the Collector's tail sampling like any
other request. At the suite's 100 % baseline every trace is kept, so each one
must be in the store, complete and findable by its X-Trace-ID."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass

import pytest
import requests

from tests.support.store_waits import complete, wait_for_search, wait_for_trace
from tests.support.trace_tree import hop_roots, render, tree_differences
from tools.scenario_table import hop_count, load_scenarios

SCENARIOS = {scenario["name"]: scenario for scenario in load_scenarios()}
REQUEST_TIMEOUT = 20.0
TRACERESPONSE = re.compile(r"^00-([0-9a-f]{32})-[0-9a-f]{16}-([0-9a-f]{2})$")


@dataclass(frozen=True)
class Sent:
    trace_id: str
    parent_id: str
    sent_at: float  # epoch seconds, for the store's search
    response: requests.Response


@pytest.fixture(scope="module")
def sent(stack) -> dict[str, Sent]:
    """Every scenario once, each under a traceparent of its own with flags 00,
    all sent before the first trace is awaited."""
    runs = {}
    for name, scenario in SCENARIOS.items():
        trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
        headers = {**scenario.get("headers", {}), "traceparent": f"00-{trace_id}-{parent_id}-00"}
        sent_at = time.time() - 1  # margin for clock granularity in the store's search
        response = requests.get(stack.gateway_url + scenario["path"], headers=headers, timeout=REQUEST_TIMEOUT)
        runs[name] = Sent(trace_id, parent_id, sent_at, response)
    return runs


@pytest.mark.parametrize("name", SCENARIOS)
def test_not_sampled_flag_does_not_hide_the_trace(stack, sent, name):
    run, expected = sent[name], SCENARIOS[name]["tree"]
    assert run.response.status_code == SCENARIOS[name]["expect_status"], run.response.text[:500]
    assert run.response.json().get("otel_trace_id") == run.trace_id, "the client's trace was not continued"

    trace = wait_for_trace(stack.store, run.trace_id, complete(hop_count(expected), remote_parent=run.parent_id),
                           timeout=stack.trace_timeout, describe=f"the complete trace of {name} sent with flags 00")
    actual_tree = "\n".join(render(root) for root in hop_roots(trace))
    problems = tree_differences(expected, trace, stack.external_dependency_host)
    assert not problems, "\n".join(problems) + f"\nactual tree:\n{actual_tree}"
    [root] = hop_roots(trace)
    assert root.span.parent_span_id == run.parent_id, f"the root hop is not the client's child:\n{actual_tree}"

    x_trace_id = run.response.headers["X-Trace-ID"]
    assert wait_for_search(stack.store, x_trace_id, run.sent_at) == [run.trace_id]

    # W3C Trace Context Level 2, traceresponse: a server that records a request
    # whose sampled flag was 0 says so with sampled = 1.
    traceresponse = TRACERESPONSE.match(run.response.headers.get("traceresponse", ""))
    assert traceresponse and traceresponse.group(1) == run.trace_id, run.response.headers.get("traceresponse")
    assert int(traceresponse.group(2), 16) & 1, f"traceresponse {traceresponse.group(0)} says not recorded"

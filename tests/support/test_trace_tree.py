"""The tree comparison on synthetic traces: a trace built to match each scenario
must pass, and each kind of deviation must be reported."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from tests.stores.model import Event, Span, Trace
from tests.support.trace_tree import tree_differences
from tools.scenario_table import load_scenarios

SCENARIOS = {scenario["name"]: scenario for scenario in load_scenarios()}
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
EXTERNAL_HOST = "127.0.0.1"
_ids = itertools.count(1)


def _span(node: dict, parent: str, start: int, end: int) -> Span:
    attributes = {}
    if node.get("status") is not None:
        attributes["http.response.status_code"] = node["status"]
    if node["kind"] == "SERVER":
        attributes["http.route"] = node["route"]
    elif node["to"] == "postgresql":
        attributes["db.system.name"] = "postgresql"
    elif node["to"] == "external":
        attributes["server.address"] = EXTERNAL_HOST
    events = (Event("exception", {"exception.type": "E"}),) if node.get("exception") else ()
    return Span(TRACE_ID, f"{next(_ids):016x}", parent, node["service"], "op", node["kind"], start, end,
                "ERROR" if node["error"] else "UNSET", attributes, events)


def spans_for(node: dict, parent: str = "", start: int = 0, end: int = 1_000_000) -> list[Span]:
    """A trace exactly as the scenario describes it."""
    span = _span(node, parent, start, end)
    spans = [span]
    children = node.get("children", [])
    width = (end - start) // (len(children) + 1)
    for index, child in enumerate(children):
        if node.get("timing") == "ordered":
            child_start, child_end = start + index * width + 1, start + (index + 1) * width
        else:
            child_start, child_end = start + 1, end - 1
        spans += spans_for(child, span.span_id, child_start, child_end)
    return spans


def differences_of(name: str, spans: list[Span]) -> list[str]:
    return tree_differences(SCENARIOS[name]["tree"], Trace(TRACE_ID, tuple(spans)), EXTERNAL_HOST)


def replace(spans: list[Span], index: int, **changes) -> list[Span]:
    spans = list(spans)
    spans[index] = dataclasses.replace(spans[index], **changes)
    return spans


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_trace_shaped_like_the_table_passes(name):
    assert differences_of(name, spans_for(SCENARIOS[name]["tree"])) == []


def test_children_order_does_not_matter():
    spans = spans_for(SCENARIOS["failure-chain-step-3"]["tree"])
    assert differences_of("failure-chain-step-3", [spans[0], *reversed(spans[1:])]) == []


def test_internal_spans_are_transparent():
    root, *rest = spans_for(SCENARIOS["circular"]["tree"])
    internal = Span(TRACE_ID, "00000000000000aa", root.span_id, root.service, "work", "INTERNAL", 1, 10, "UNSET")
    client = dataclasses.replace(rest[0], parent_span_id=internal.span_id)
    assert differences_of("circular", [root, internal, client, *rest[1:]]) == []


# (what is wrong, scenario, index of the span to change, change, words the report must contain)
DEVIATIONS = [
    ("server status", "parallel", 2, {"attributes": {"http.route": "/api/process", "http.response.status_code": 500}},
     "status is 500, expected 200"),
    ("client status absent", "parallel", 1, {"attributes": {}}, "status is None, expected 200"),
    ("error flag", "parallel", 0, {"status": "ERROR"}, "error is True, expected False"),
    ("missing exception", "hop-limit", 0, {"events": ()}, "exception is False, expected True"),
    ("unexpected exception", "parallel", 0, {"events": (Event("exception"),)}, "exception is True, expected False"),
    ("route", "parallel", 0, {"attributes": {"http.route": "/x", "http.response.status_code": 200}},
     "route is '/x'"),
    ("wrong service", "circular", 2, {"service": "service-b"}, "to is 'service-b', expected 'service-a'"),
    ("db system", "b-db-error", 1, {"attributes": {"db.system.name": "mysql"}}, "to is 'mysql'"),
    ("external address", "c-dependency-error", 1, {"attributes": {"server.address": "10.0.0.1"}},
     "server.address is '10.0.0.1'"),
]


@pytest.mark.parametrize("what, name, index, change, report", DEVIATIONS, ids=[d[0] for d in DEVIATIONS])
def test_deviations_are_reported(what, name, index, change, report):
    problems = differences_of(name, replace(spans_for(SCENARIOS[name]["tree"]), index, **change))
    assert any(report in problem for problem in problems), problems


def test_sequential_calls_fail_an_overlap_expectation():
    spans = spans_for(SCENARIOS["sequential"]["tree"])
    assert "timing is 'ordered', expected 'overlap'" in "".join(
        tree_differences(SCENARIOS["parallel"]["tree"] | {"route": "/api/demo/sequential"},
                         Trace(TRACE_ID, tuple(spans)), EXTERNAL_HOST))


def test_parallel_calls_fail_an_ordered_expectation():
    spans = spans_for(SCENARIOS["parallel"]["tree"])
    problems = tree_differences(SCENARIOS["sequential"]["tree"] | {"route": "/api/demo/parallel"},
                                Trace(TRACE_ID, tuple(spans)), EXTERNAL_HOST)
    assert any("timing is 'overlap', expected 'ordered'" in p for p in problems), problems


def test_extra_hop_is_reported():
    spans = spans_for(SCENARIOS["circular"]["tree"])
    extra = dataclasses.replace(spans[1], span_id="00000000000000bb")
    assert any("2 child hop(s)" in p for p in differences_of("circular", [*spans, extra]))


def test_missing_hop_is_reported():
    spans = spans_for(SCENARIOS["parallel"]["tree"])
    assert any("1 child hop(s)" in p for p in differences_of("parallel", spans[:3]))


def test_two_roots_are_reported():
    spans = spans_for(SCENARIOS["circular"]["tree"])
    orphan = replace(spans, 2, parent_span_id="")
    assert any("expected one root hop, found 2" in p for p in differences_of("circular", orphan))

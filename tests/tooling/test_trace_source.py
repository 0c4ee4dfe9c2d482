"""tools/trace/source.py: which id the user gave, how far back to search,
and the completeness rule the command waits for (no stack needed)."""

from __future__ import annotations

import calendar
import dataclasses

import pytest

from tests.stores.model import Trace
from tests.tooling.stored_traces import SCENARIOS, load
from tools.scenario_table import load_scenarios, select
from tools.trace.source import (MINTED_MARGIN_S, SEARCH_LOOKBACK_S, UsageError, candidates, completeness,
                                 kind_of_id, search_since)

ALL_SCENARIOS = load_scenarios()


@pytest.mark.parametrize("given, kind", [
    ("4bf92f3577b34da6a3ce929d0e0e4736", "otel"),
    ("trace-20261125T004012Z-1a2b3c4d", "x"),
    ("my-request.42:a_b", "x"),
    ("A", "x"),
    ("4BF92F3577B34DA6A3CE929D0E0E4736", "x"),  # not a W3C id (uppercase), but a valid X-Trace-ID
])
def test_kind_of_id(given, kind):
    assert kind_of_id(given) == kind


@pytest.mark.parametrize("given, message", [
    ("0" * 32, "invalid trace id"),
    ("", "neither"),
    ("-starts-with-dash", "neither"),
    ("has space", "neither"),
    ("a" * 65, "neither"),
    ("x;rm -rf", "neither"),
])
def test_unusable_ids_are_refused_with_a_reason(given, message):
    with pytest.raises(UsageError, match=message):
        kind_of_id(given)


def test_a_minted_x_trace_id_bounds_the_search_by_its_timestamp():
    minted = calendar.timegm((2026, 11, 25, 0, 40, 12, 0, 0, 0))
    assert search_since("trace-20261125T004012Z-1a2b3c4d", now=minted + 5000) == minted - MINTED_MARGIN_S
    assert search_since("custom-id", now=10_000.0) == 10_000.0 - SEARCH_LOOKBACK_S


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_recorded_trace_is_complete_and_recognised(scenario):
    trace = load("jaeger", scenario)
    verdict = completeness(None, ALL_SCENARIOS, "127.0.0.1")(trace)
    assert isinstance(verdict, str) and f"scenario {scenario!r}" in verdict, verdict
    assert [s["name"] for s in candidates(trace, ALL_SCENARIOS)] == [scenario]


def without(trace: Trace, keep) -> Trace:
    return dataclasses.replace(trace, spans=tuple(span for span in trace.spans if keep(span)))


def test_a_missing_parent_is_incomplete():
    trace = load("jaeger", "parallel")
    root = next(span for span in trace.spans if not span.parent_span_id)
    verdict = completeness(None, ALL_SCENARIOS, "127.0.0.1")(without(trace, lambda span: span is not root))
    assert not verdict and "parent not in the store" in repr(verdict)


def test_a_missing_leaf_is_incomplete_by_the_scenarios_span_count():
    """failure-timeout: C's server span reaches the store after A's whole answer;
    without it no span misses its parent, yet the trace is not complete."""
    trace = load("jaeger", "failure-timeout")
    late = without(trace, lambda span: not (span.service == "service-c" and span.kind == "SERVER"))
    for scenario in (None, select(ALL_SCENARIOS, ["failure-timeout"])[0]):
        verdict = completeness(scenario, ALL_SCENARIOS, "127.0.0.1")(late)
        assert not verdict and "4 of 5 SERVER/CLIENT spans" in repr(verdict), verdict


def test_a_trace_that_is_no_scenario_is_complete_when_no_parent_is_missing():
    trace = load("jaeger", "parallel")
    # Only service-b's subtree: its server span is the root now, with a route no scenario starts at.
    b_server = next(s for s in trace.spans if s.service == "service-b" and s.kind == "SERVER")
    subtree = without(trace, lambda span: span.service == "service-b")
    subtree = dataclasses.replace(subtree, spans=tuple(
        dataclasses.replace(span, parent_span_id="") if span is b_server else span for span in subtree.spans))
    verdict = completeness(None, ALL_SCENARIOS, "127.0.0.1")(subtree)
    assert isinstance(verdict, str) and "no span misses its parent" in verdict

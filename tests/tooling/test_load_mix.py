"""The load generator's task mix, built from scenarios/scenarios.json, and
what each of its requests carries (load/mix.py; no Locust, no stack)."""

from __future__ import annotations

from collections import Counter

import pytest

from load.mix import Pacer, Schedule, new_x_trace_id, one_pass, request_headers
from tests.support.ids import KEPT_X_TRACE_ID
from tools.scenario_table import load_scenarios, load_weight

TABLE = load_scenarios()


def scenario(name: str, weight=None, **extra) -> dict:
    row = {"name": name, "path": f"/{name}", "expect_status": 200, **extra}
    if weight is not None:
        row["load_weight"] = weight
    return row


# ------------------------------------------------------------ the real table

@pytest.mark.parametrize("row", TABLE, ids=[row["name"] for row in TABLE])
def test_each_scenario_is_sent_its_weight_per_pass(row):
    sent = Counter(s["name"] for s in one_pass(TABLE))
    assert sent[row["name"]] == load_weight(row)


def test_a_pass_is_as_long_as_the_weights_add_up_to():
    assert len(one_pass(TABLE)) == sum(load_weight(row) for row in TABLE)


def test_every_table_row_states_its_weight():
    # The default covers a row added without one; the table itself says what it wants.
    assert all("load_weight" in row for row in TABLE)


# ------------------------------------------------------ weights and ordering

# Weights in table order -> one pass. The first is nginx's own example of its
# smooth weighted round-robin: the heavy one is spread, not bunched.
PASSES = [
    ({"a": 5, "b": 1, "c": 1}, "aabacaa"),
    ({"a": 1, "b": 1, "c": 1}, "abc"),
    ({"a": 2, "b": 2}, "abab"),
    ({"a": 0, "b": 3, "c": 1}, "bbcb"),
    ({"a": 1, "b": 3}, "babb"),
]


@pytest.mark.parametrize(("weights", "expected"), PASSES)
def test_pass_order(weights, expected):
    rows = [scenario(name, weight) for name, weight in weights.items()]
    assert "".join(s["name"] for s in one_pass(rows)) == expected


def test_a_row_without_a_weight_counts_once():
    assert [s["name"] for s in one_pass([scenario("a"), scenario("b", 2)])] == ["b", "a", "b"]


@pytest.mark.parametrize("weight", [-1, 1.5, "2", True, None], ids=repr)
def test_a_weight_that_is_not_a_whole_number_is_refused(weight):
    row = {**scenario("a"), "load_weight": weight}
    with pytest.raises(ValueError, match="load_weight must be a whole number"):
        one_pass([row])


def test_nothing_to_send_is_refused():
    with pytest.raises(ValueError, match="no scenario has a load_weight above 0"):
        one_pass([scenario("a", 0), scenario("b", 0)])


@pytest.mark.parametrize("header", ["traceparent", "TraceState", "baggage"])
def test_a_scenario_that_fixes_trace_context_is_refused_unless_left_out(header):
    fixed = scenario("joins-one-trace", 1, headers={header: "x"})
    with pytest.raises(ValueError, match="would join one trace"):
        one_pass([fixed])
    left_out = {**fixed, "load_weight": 0}
    assert [s["name"] for s in one_pass([left_out, scenario("b")])] == ["b"]


# ------------------------------------------------------------------ schedule

def test_schedule_stops_after_its_passes():
    schedule = Schedule([scenario("a", 2), scenario("b", 1)], passes=2)
    sent = [schedule.next() for _ in range(6)]
    assert [s["name"] for s in sent] == ["a", "b", "a"] * 2
    assert schedule.next() is None and schedule.next() is None


def test_schedule_without_passes_goes_on():
    schedule = Schedule([scenario("a", 1), scenario("b", 1)])
    assert [schedule.next()["name"] for _ in range(7)] == list("abababa")


def test_negative_passes_are_refused():
    with pytest.raises(ValueError):
        Schedule([scenario("a")], passes=-1)


# --------------------------------------------------------------------- pacer

class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_pacer_spaces_starts_across_all_users():
    clock = FakeClock()
    pacer = Pacer(4.0, clock)
    # Four users ask at the same moment: their starts are a quarter second apart.
    assert [pacer.delay() for _ in range(4)] == [0.0, 0.25, 0.5, 0.75]


def test_pacer_does_not_make_up_for_a_late_start_with_a_burst():
    clock = FakeClock()
    pacer = Pacer(2.0, clock)
    assert pacer.delay() == 0.0
    clock.now += 10.0  # every user was busy for 10 s
    assert [pacer.delay() for _ in range(3)] == [0.0, 0.5, 1.0]


@pytest.mark.parametrize("rate", [0, -1.0, float("nan")])
def test_pacer_refuses_a_rate_that_is_not_positive(rate):
    with pytest.raises(ValueError):
        Pacer(rate)


# ------------------------------------------------------------------ requests

@pytest.mark.parametrize("row", TABLE, ids=[row["name"] for row in TABLE])
def test_request_carries_the_scenario_headers_a_fresh_x_trace_id_and_no_trace_context(row):
    first, second = new_x_trace_id(), new_x_trace_id()
    headers = request_headers(row, first)
    assert headers == {**row.get("headers", {}), "X-Trace-ID": first}
    assert not {name.lower() for name in headers} & {"traceparent", "tracestate", "baggage"}
    assert request_headers(row, second)["X-Trace-ID"] == second != first


def test_x_trace_ids_are_kept_by_the_gateway_and_never_repeat():
    ids = [new_x_trace_id() for _ in range(1000)]
    assert all(KEPT_X_TRACE_ID.match(value) for value in ids), ids[:3]
    assert len(set(ids)) == len(ids)


def test_the_request_id_replaces_one_a_scenario_names():
    row = scenario("a", headers={"x-trace-id": "fixed", "X-Hop-Count": "5"})
    assert request_headers(row, "load-1") == {"X-Hop-Count": "5", "X-Trace-ID": "load-1"}

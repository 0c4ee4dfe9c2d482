"""The simulation module: parameter parsing and the failure decision."""

from __future__ import annotations

import pytest

from app.errors import InvalidParameter
from werkzeug.datastructures import MultiDict

from app.simulate import BASE_LATENCY_MS, MAX_DELAY_MS, FailureMode, Simulation, parse_delay_ms, parse_fail


@pytest.mark.parametrize(("raw", "expected"), [
    (None, 0),
    ("0", 0),
    ("250", 250),
    ("0010", 10),
    ("99999999999999999999", MAX_DELAY_MS),
    (str(MAX_DELAY_MS), MAX_DELAY_MS),
    (str(MAX_DELAY_MS + 1), MAX_DELAY_MS),
    ("9" * 5000, MAX_DELAY_MS),  # far past int()'s digit limit: clamped, not a crash
])
def test_delay_ms_is_clamped(raw, expected):
    assert parse_delay_ms(raw) == expected


# tests/e2e/test_50_bad_input.py sends "", "abc", a decimal, an exponent, a plus
# sign and Arabic-Indic digits to every service; these are the other spellings.
@pytest.mark.parametrize("raw", [" 5", "5ms", "--1", "0x10", "-", "+-1"])
def test_delay_ms_rejects_non_integers(raw):
    with pytest.raises(InvalidParameter):
        parse_delay_ms(raw)


@pytest.mark.parametrize(("raw", "expected"), [
    (None, None), ("true", True), ("false", False),
])
def test_fail_parses_booleans(raw, expected):
    assert parse_fail(raw) is expected


# test_50 sends "", "maybe", "TRUE", "False" and " true" to every service.
@pytest.mark.parametrize("raw", ["1", "0", "yes", "truee", "true "])
def test_fail_rejects_anything_else(raw):
    with pytest.raises(InvalidParameter):
        parse_fail(raw)


@pytest.mark.parametrize(("fail", "default", "chance", "expected"), [
    (None, FailureMode.NEVER, 0.0, False),
    (None, FailureMode.ALWAYS, 0.99, True),
    (None, FailureMode.RANDOM, 0.49, True),
    (None, FailureMode.RANDOM, 0.5, False),
    (True, FailureMode.NEVER, 0.99, True),
    (False, FailureMode.ALWAYS, 0.0, False),
    (False, FailureMode.RANDOM, 0.0, False),
])
def test_failure_decision(fail, default, chance, expected):
    slept = []
    failed = Simulation(delay_ms=0, fail=fail).run(default, sleep=slept.append, chance=lambda: chance)
    assert failed is expected
    assert slept == [BASE_LATENCY_MS / 1000]


def test_delay_adds_to_the_base_latency():
    slept = []
    Simulation(delay_ms=130, fail=None).run(FailureMode.NEVER, sleep=slept.append)
    assert slept == [(BASE_LATENCY_MS + 130) / 1000]


def test_from_query_reads_both_parameters():
    assert Simulation.from_query(MultiDict({"delay_ms": "40", "fail": "true"})) == Simulation(delay_ms=40, fail=True)
    assert Simulation.from_query(MultiDict()) == Simulation(delay_ms=0, fail=None)

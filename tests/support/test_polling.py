from __future__ import annotations

import itertools
import time

import pytest

from tests.support.polling import NotYet, PollTimeout, poll_until


def test_returns_the_first_truthy_value():
    answers = iter([None, [], NotYet("warming up"), "ready"])
    assert poll_until(lambda: next(answers), timeout=5, interval=0.001, describe="readiness") == "ready"


def test_times_out_naming_what_it_waited_for_and_last_saw():
    counter = itertools.count()
    started = time.monotonic()
    with pytest.raises(PollTimeout, match=r"waiting for the answer; last saw: 3 of 5 spans") as raised:
        poll_until(lambda: NotYet(f"{min(next(counter), 3)} of 5 spans"), timeout=0.3, interval=0.01,
                   describe="the answer")
    assert 0.3 <= time.monotonic() - started < 2
    assert "attempts" in str(raised.value)


def test_errors_are_not_swallowed():
    def broken():
        raise ConnectionError("store down")
    with pytest.raises(ConnectionError):
        poll_until(broken, timeout=5, describe="anything")

"""The one way tests wait: poll a condition until it holds or a deadline passes.

Telemetry is asynchronous (batch processors, the Collector's batching, store
ingestion), so a test never knows how long to wait. A fixed sleep is either
too short (flaky) or too long (slow); a poll with a deadline is neither, and
when it gives up it says what it last saw.
"""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


class PollTimeout(AssertionError):
    pass


class NotYet:
    """A falsy answer that explains itself: return it from a polled function
    to make the timeout message say why the condition did not hold."""

    def __init__(self, reason: str):
        self.reason = reason

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return self.reason


def poll_until(fn: Callable[[], T], *, timeout: float, interval: float = 0.2, describe: str) -> T:
    """Call fn until it returns something truthy and return that.

    Raises PollTimeout after `timeout` seconds, naming `describe` and the last
    value fn returned. Exceptions from fn are not swallowed: a broken call is a
    failure, not a reason to wait."""
    deadline = time.monotonic() + timeout
    attempts = 0
    while True:
        last = fn()
        attempts += 1
        if last:
            return last
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise PollTimeout(
                f"gave up after {timeout:.1f}s ({attempts} attempts) waiting for {describe}; last saw: {last!r}"
            )
        time.sleep(min(interval, remaining))

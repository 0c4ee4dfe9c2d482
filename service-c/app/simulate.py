"""Simulated work: the only place where service-c sleeps or fails on purpose.

Endpoints that "do work" read two query parameters through this module
(docs/contract.md, "Simulation parameters"):

- `delay_ms`: extra latency, an integer clamped to 0..10000 (default 0). On top
  of it every piece of work takes BASE_LATENCY_MS.
- `fail`: `true` forces a failure, `false` forces success, absent leaves it to
  the endpoint's default (`FailureMode`). Random endpoints fail with
  probability FAILURE_PROBABILITY.

Anything else (`delay_ms=abc`, `fail=maybe`, `fail=TRUE`) and a parameter
given twice are an InvalidParameter (400): the grammar of docs/contract.md,
"Input rules", the same in all three services.
What a failure *means* (500, 401, 429, ...) is up to the endpoint.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from opentelemetry import trace
from werkzeug.datastructures import MultiDict

from app.errors import InvalidParameter

BASE_LATENCY_MS = 20
MAX_DELAY_MS = 10_000
FAILURE_PROBABILITY = 0.5

# An optional minus sign and ASCII digits, however many (docs/contract.md).
_INTEGER = re.compile(r"-?[0-9]+")
_BOOLEANS = {"true": True, "false": False}


class FailureMode(Enum):
    """What an endpoint does when the request does not say `fail=`."""

    NEVER = "never"
    ALWAYS = "always"
    RANDOM = "random"


@dataclass(frozen=True)
class Simulation:
    delay_ms: int = 0
    fail: bool | None = None

    @classmethod
    def from_query(cls, args: MultiDict[str, str]) -> Simulation:
        return cls(delay_ms=parse_delay_ms(single(args, "delay_ms")), fail=parse_fail(single(args, "fail")))

    def run(
        self,
        default: FailureMode,
        *,
        sleep: Callable[[float], None] = time.sleep,
        chance: Callable[[], float] = random.random,
    ) -> bool:
        """Spend the simulated time, then say whether this piece of work failed."""
        total_ms = BASE_LATENCY_MS + self.delay_ms
        trace.get_current_span().set_attribute("app.simulated_delay_ms", total_ms)
        sleep(total_ms / 1000)
        if self.fail is not None:
            return self.fail
        if default is FailureMode.RANDOM:
            return chance() < FAILURE_PROBABILITY
        return default is FailureMode.ALWAYS


def single(args: MultiDict[str, str], name: str) -> str | None:
    """The one value of a query parameter; given twice it is refused, even with
    equal values: there would be no rule for which one to take."""
    values = args.getlist(name)
    if len(values) > 1:
        raise InvalidParameter(f"{name} must be given at most once")
    return values[0] if values else None


def parse_delay_ms(raw: str | None) -> int:
    if raw is None:
        return 0
    if not _INTEGER.fullmatch(raw):
        raise InvalidParameter(f"delay_ms must be an integer between 0 and {MAX_DELAY_MS}")
    if raw.startswith("-"):
        return 0
    digits = raw.lstrip("0") or "0"
    # Past five digits the value is above the maximum anyway; this also keeps
    # int() away from huge strings.
    if len(digits) > len(str(MAX_DELAY_MS)):
        return MAX_DELAY_MS
    return min(int(digits), MAX_DELAY_MS)


def parse_fail(raw: str | None) -> bool | None:
    if raw is None:
        return None
    try:
        return _BOOLEANS[raw]
    except KeyError:
        raise InvalidParameter("fail must be true or false") from None

"""What the load generator sends, and when: plain Python, no Locust, so it is
unit-tested on its own (tests/tooling/test_load_mix.py)."""

from __future__ import annotations

import time
import uuid
from typing import Callable

from tools.scenario_table import load_weight

# Headers that would join a request to an existing trace. A load test sends
# each request as a trace of its own, so a scenario that fixes one of these
# (the same trace every time) cannot be part of the mix.
TRACE_CONTEXT_HEADERS = frozenset({"traceparent", "tracestate", "baggage"})
X_TRACE_ID_HEADER = "X-Trace-ID"


def one_pass(scenarios: list[dict]) -> list[dict]:
    """One pass through the mix: every scenario `load_weight` times, spread
    through the pass rather than bunched (smooth weighted round-robin, as nginx
    balances upstreams), so that any run of one pass or more sends every
    scenario whose weight is above 0, in the table's proportions."""
    weighted = [(scenario, load_weight(scenario)) for scenario in scenarios]
    weighted = [(scenario, weight) for scenario, weight in weighted if weight > 0]
    if not weighted:
        raise ValueError("no scenario has a load_weight above 0: nothing to send")
    for scenario, _ in weighted:
        fixed = sorted(name for name in scenario.get("headers", {}) if name.lower() in TRACE_CONTEXT_HEADERS)
        if fixed:
            raise ValueError(f"scenario {scenario['name']!r} sets {', '.join(fixed)}: every load request would "
                             "join one trace; give it load_weight 0")
    total = sum(weight for _, weight in weighted)
    credit = [0] * len(weighted)
    order = []
    for _ in range(total):
        for index, (_, weight) in enumerate(weighted):
            credit[index] += weight
        chosen = max(range(len(weighted)), key=credit.__getitem__)  # the first of equals: table order
        credit[chosen] -= total
        order.append(weighted[chosen][0])
    return order


class Schedule:
    """The scenarios to send, in order, shared by all users of one Locust
    process: pass after pass, or `passes` passes and then nothing (None)."""

    def __init__(self, scenarios: list[dict], passes: int = 0):
        if passes < 0:
            raise ValueError(f"passes must be 0 (no limit) or more, not {passes}")
        self.pass_ = one_pass(scenarios)
        self._limit = passes * len(self.pass_) if passes else None
        self._taken = 0

    def next(self) -> dict | None:
        if self._limit is not None and self._taken >= self._limit:
            return None
        scenario = self.pass_[self._taken % len(self.pass_)]
        self._taken += 1
        return scenario


class Pacer:
    """Starts requests `1/rate` seconds apart across all users of a process:
    RATE is the total request rate, and USERS only bounds how many requests
    are in flight at once. A late start is not made up for by a burst."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic):
        if not rate > 0:
            raise ValueError(f"rate must be above 0 requests per second, not {rate}")
        self._interval = 1.0 / rate
        self._clock = clock
        self._next: float | None = None

    def delay(self) -> float:
        """Seconds to wait before the next request start; reserves that start."""
        now = self._clock()
        start = now if self._next is None else max(now, self._next)
        self._next = start + self._interval
        return start - now


def new_x_trace_id() -> str:
    """A fresh request id per request, in the contract's X-Trace-ID grammar, so
    the run can find each of its traces by it."""
    return f"load-{uuid.uuid4().hex}"


def request_headers(scenario: dict, x_trace_id: str) -> dict[str, str]:
    """The scenario's own headers plus this request's X-Trace-ID. No trace
    context (one_pass refuses scenarios that set it): the first service starts
    a new trace for every request."""
    headers = {name: value for name, value in scenario.get("headers", {}).items()
               if name.lower() != X_TRACE_ID_HEADER.lower()}
    headers[X_TRACE_ID_HEADER] = x_trace_id
    return headers

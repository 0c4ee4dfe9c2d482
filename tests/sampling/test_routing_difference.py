"""What trace-id routing is for, shown by taking it away: the same two
samplers, the baseline at 0 %, but each service sends its spans to a sampler
of its own (as a plain connection balancer would), so each sampler decides on
a fragment of the trace. In failure-partial, A and C fail while B answers 200:
the sampler holding B's fast, error-free span drops it, and the trace is
stored without B. tests/sampling/test_tail_sampling.py stores the same
scenario complete through the routing tier."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

import pytest

from tests.sampling.conftest import BASELINE_ZERO, started
from tests.sampling.test_tail_sampling import ROWS, Sent, _decisions, _send
from tests.stores import make_store
from tests.support.polling import NotYet, poll_until
from tools.native.stack import NativeStack

pytestmark = pytest.mark.sampling

SCENARIO = "failure-partial"
REPEATS = 4
TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def unrouted_stack() -> Iterator[NativeStack]:
    yield from started(NativeStack.from_repo(BASELINE_ZERO, sampling_tier=True, route_by_trace_id=False))


def test_without_trace_id_routing_a_trace_is_kept_in_fragments(unrouted_stack):
    store = make_store("jaeger", unrouted_stack.store_url)
    before = _decisions(unrouted_stack)
    records = [Sent(SCENARIO, True) for _ in range(REPEATS)]
    with ThreadPoolExecutor(max_workers=REPEATS) as pool:
        list(pool.map(lambda r: _send(unrouted_stack.gateway_url, r), records))
    assert all(r.status == ROWS[SCENARIO][0]["expect_status"] and r.otel_trace_id for r in records)
    # Each trace is decided twice: once per sampler that saw part of it.
    poll_until(lambda: _decisions(unrouted_stack) - before >= 2 * REPEATS
               or NotYet(f"{_decisions(unrouted_stack) - before} of {2 * REPEATS} fragment decisions"),
               timeout=TIMEOUT_S, interval=0.5, describe="both samplers to decide every fragment")
    for record in records:
        def error_fragment():
            trace = store.get_trace(record.otel_trace_id)
            services = {s.service for s in trace.spans} if trace else set()
            return trace if {"service-a", "service-c"} <= services else NotYet(f"stored: {sorted(services)}")

        # The error fragment (A and C, on one sampler) is kept...
        trace = poll_until(error_fragment, timeout=TIMEOUT_S, interval=0.5,
                           describe=f"the error fragment of {SCENARIO} trace {record.otel_trace_id}")
        # ...and B's, decided alone on the other sampler, is not.
        assert "service-b" not in {s.service for s in trace.spans}, trace.summary()

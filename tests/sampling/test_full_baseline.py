"""At the shipped default (baseline 100 %) the sampling tier keeps everything:
every row of the tail sampling table and every request of the load generator
beside them is in the store, complete. The same traffic as
test_tail_sampling.py, which shows what a 0 % baseline drops."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.sampling.conftest import started
from tests.sampling.test_tail_sampling import COMPLETE_TIMEOUT_S, ROWS, _incomplete, send_under_load
from tests.stores import make_store
from tests.support.polling import NotYet, poll_until
from tools.native.stack import NativeStack

pytestmark = pytest.mark.sampling

REPEATS = 1


@pytest.fixture(scope="module")
def full_stack() -> Iterator[NativeStack]:
    yield from started(NativeStack.from_repo(sampling_tier=True))


def test_every_trace_is_kept_complete(full_stack, tmp_path):
    store = make_store("jaeger", full_stack.store_url)
    records = send_under_load(full_stack, tmp_path, REPEATS)
    assert {r.name for r in records} == set(ROWS), "a row of the table was not sent"
    for record in records:
        poll_until(lambda: not (why := _incomplete(store, record)) or NotYet(why),
                   timeout=COMPLETE_TIMEOUT_S, interval=0.5,
                   describe=f"{record.name} trace {record.otel_trace_id} complete "
                            f"({store.trace_link(record.otel_trace_id)})")

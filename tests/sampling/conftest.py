"""The tail sampling suite's stacks: the native stack with its sampling tier
(`python3 -m tools.native up --sampling-tier`: a routing Collector in front of
two samplers), mostly with the baseline at 0 %, so only the policies that must
keep a trace keep it. Everything else is the shipped default (the 5 s
decision wait, the 1 s slow threshold): this is the proof that the defaults
keep every error trace. It runs after the e2e suite,
as its own stage of `make test` (tools/run_tests.py), never beside it: one
stack on the machine at a time, so each module's stack stops before the next
module's starts."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.stores import TraceStore, make_store
from tools.native.settings import LOGS
from tools.native.stack import SERVICES, NativeStack

BASELINE_ZERO = {"SAMPLING_BASELINE_PERCENT": "0"}


def started(native: NativeStack) -> Iterator[NativeStack]:
    native.build()
    native.start(build_first=False)
    try:
        yield native
    finally:
        codes = native.stop()
    unclean = {name: code for name, code in codes.items() if name in SERVICES and code != 0}
    assert not unclean, f"services did not exit 0 on SIGTERM (all exit codes: {codes}); see {LOGS}"


@pytest.fixture(scope="module")
def sampling_stack() -> Iterator[NativeStack]:
    yield from started(NativeStack.from_repo(BASELINE_ZERO, sampling_tier=True))


@pytest.fixture(scope="module")
def store(sampling_stack: NativeStack) -> TraceStore:
    return make_store("jaeger", sampling_stack.store_url)

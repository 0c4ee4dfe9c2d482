"""The chaos suite's stack: the native stack, started for the session and
stopped at the end (every service must still exit 0 on SIGTERM). Faults need
control over single processes, so there is no "stack already running" mode."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.chaos.faults import Chaos
from tests.stores import make_store
from tests.support.sampling import TEST_COLLECTOR_ENV
from tools.native.settings import LOGS
from tools.native.stack import SERVICES, NativeStack


@pytest.fixture(scope="session")
def chaos() -> Iterator[Chaos]:
    native = NativeStack.from_repo(TEST_COLLECTOR_ENV)
    native.build()
    native.start(build_first=False)
    try:
        yield Chaos(native, make_store("jaeger", native.store_url))
    finally:
        codes = native.stop()
    unclean = {name: code for name, code in codes.items() if name in SERVICES and code != 0}
    assert not unclean, f"services did not exit 0 on SIGTERM (all exit codes: {codes}); see {LOGS}"

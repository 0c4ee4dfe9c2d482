"""The chaos suite's stack. By default the native stack, started for the
session and stopped at the end (every service must still exit 0 on SIGTERM).
CHAOS_STACK=compose: a compose stack that is already up (make compose-check
runs the suite so), its gateway and Tempo at E2E_GATEWAY_URL / E2E_STORE_URL.
CHAOS_STACK=kube: the chart on the cluster of ../shared/kube (make kube-check),
the same two variables saying where its gateway and Tempo answer."""

from __future__ import annotations

import os
from typing import Iterator

import pytest

from tests.chaos.faults import Chaos
from tests.chaos.stacks import ComposeChaosStack, KubeChaosStack, NativeChaosStack
from tests.stores import make_store
from tests.support.sampling import TEST_COLLECTOR_ENV
from tools.native.settings import LOGS, read_dotenv
from tools.native.stack import SERVICES, NativeStack


@pytest.fixture(scope="session")
def chaos() -> Iterator[Chaos]:
    if os.environ.get("CHAOS_STACK") == "compose":
        env = read_dotenv()
        gateway = os.environ.get("E2E_GATEWAY_URL", f"http://127.0.0.1:{env['GATEWAY_PORT']}")
        store = os.environ.get("E2E_STORE_URL", f"http://127.0.0.1:{env['TEMPO_PORT']}")
        yield Chaos(ComposeChaosStack(gateway), make_store("tempo", store))
        return
    if os.environ.get("CHAOS_STACK") == "kube":
        yield Chaos(KubeChaosStack(os.environ["E2E_GATEWAY_URL"]), make_store("tempo", os.environ["E2E_STORE_URL"]))
        return
    native = NativeStack.from_repo(TEST_COLLECTOR_ENV)
    native.build()
    native.start(build_first=False)
    try:
        yield Chaos(NativeChaosStack(native), make_store("jaeger", native.store_url))
    finally:
        codes = native.stop()
    unclean = {name: code for name, code in codes.items() if name in SERVICES and code != 0}
    assert not unclean, f"services did not exit 0 on SIGTERM (all exit codes: {codes}); see {LOGS}"

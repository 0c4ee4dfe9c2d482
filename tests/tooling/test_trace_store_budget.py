"""The native trace store's memory budget. Jaeger v2 keeps traces in memory,
bounded only by `max_traces` (tools/native/jaeger.yaml), so that bound is its
memory budget. Figures measured with `make load` and benchmarks/saturation.py
(docs/native-interface.md)."""

from __future__ import annotations

import yaml

from tests.chaos import faults
from tools.native.settings import REPO

JAEGER_CONFIG = REPO / "tools" / "native" / "jaeger.yaml"
DOC = REPO / "docs" / "native-interface.md"
BUDGET_MIB = 120  # Jaeger's resident memory, all of it
IDLE_MIB = 58  # resident right after start
# Resident memory per stored trace once the store is full and evicting: the
# ~12 KiB a trace adds while the store fills, plus the garbage collector's
# headroom for the evicted ones (10000 traces levelled off at 238 MiB).
STEADY_KIB_PER_TRACE = 18
# The chaos suite counts every trace of a fault's load after the fault (one
# 60 s outage at 20 req/s, with the warm-up before and the requests after):
# all of them must still be stored then, with room to spare. An e2e session
# sends a few hundred.
CHAOS_FAULT_TRACES = int(faults.RATE * faults.OUTAGE_S) + faults.WARM_UP_ANSWERS + faults.AFTER_ANSWERS
MIN_TRACES = 2 * CHAOS_FAULT_TRACES


def memory_backends() -> dict[str, dict]:
    backends = yaml.safe_load(JAEGER_CONFIG.read_text())["extensions"]["jaeger_storage"]["backends"]
    return {name: backend["memory"] for name, backend in backends.items() if "memory" in backend}


def test_there_is_an_in_memory_store():
    assert memory_backends(), f"{JAEGER_CONFIG.name} has no in-memory backend"


def test_every_in_memory_store_fits_the_budget():
    for name, memory in memory_backends().items():
        traces = memory.get("max_traces")
        assert isinstance(traces, int) and MIN_TRACES <= traces, f"{name}: max_traces {traces!r}"
        expected_mib = IDLE_MIB + traces * STEADY_KIB_PER_TRACE / 1024
        assert expected_mib <= BUDGET_MIB, (
            f"{name}: {traces} traces would keep Jaeger at about {expected_mib:.0f} MiB, over its {BUDGET_MIB} MiB budget")


def test_doc_states_the_budget_and_the_bound():
    text = DOC.read_text()
    for name, memory in memory_backends().items():
        assert f"`max_traces: {memory['max_traces']}`" in text, f"docs/native-interface.md must name {name}'s bound"
    assert f"{BUDGET_MIB} MiB" in text

"""Not one trace lost: for each fault, every request answered 200 under steady
load has a complete trace in the trace store afterwards (exactly N of N).

Slow by nature (two 60 s outages): marked `chaos`, run by `make chaos`, not by
`make test`. See tests/chaos/faults.py for what each fault does."""

from __future__ import annotations

import os

import pytest

from tests.chaos.faults import FAULTS, KUBE_FAULTS, Figures

pytestmark = pytest.mark.chaos

# fault -> whether every request must be answered 200: a telemetry fault must
# not touch requests, while a service's restart refuses a few while it is down.
EVERY_REQUEST_ANSWERED = {
    "collector-down-60s": True,
    "collector-restart": True,
    "queue-survives-collector-restart": True,
    "store-down-60s": True,
    "sampler-restart": True,
    "store-restart": True,
    "sigterm-service-a": False,
    "sigterm-service-b": False,
    "sigterm-service-c": False,
}


def report(figures: Figures) -> str:
    missing = "\n".join(f"  {x}: {why}" for x, why in sorted(figures.missing.items())[:20])
    return f"{figures.line()}\nnotes: {figures.notes}\nmissing (first 20):\n{missing}"


# On Kubernetes a role cannot be held down: deleting a pod is the fault, and its
# controller replaces it at once (docs/kubernetes.md, "Chaos").
STACK_FAULTS = KUBE_FAULTS if os.environ.get("CHAOS_STACK") == "kube" else FAULTS


@pytest.mark.parametrize("fault", STACK_FAULTS)
def test_every_answered_request_has_a_complete_trace(chaos, fault):
    figures = STACK_FAULTS[fault](chaos)
    print(figures.line())
    assert figures.answered_ok > 0, report(figures)
    if EVERY_REQUEST_ANSWERED[fault]:
        assert figures.not_ok == {}, f"requests failed during a telemetry fault: {figures.not_ok}"
    assert not [n for n in figures.notes if "not answered 200" in n or "exited" in n], report(figures)
    assert figures.missing == {}, report(figures)
    assert figures.complete == figures.answered_ok, report(figures)

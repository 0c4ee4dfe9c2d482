"""The faults of the chaos suite, each run under steady load on a running stack
(native, or compose: tests/chaos/stacks.py).

A fault run sends `/api/demo/parallel` at 20 req/s with known X-Trace-IDs,
injects the fault by stopping and starting one role of the stack, and afterwards
counts complete traces in the real trace store with the suite's trace-tree
rules (tests/support/trace_tree.py, the scenario's tree in scenarios.json).
Durations being tested (a 60 s outage) are measured with a monotonic clock;
every other wait polls for a state with a deadline.

Shared by tests/chaos/test_faults.py (asserts N of N) and
benchmarks/chaos_figures.py (prints the figures).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Protocol

from tests.chaos.load import Count, Load, Sent, count_complete
from tests.stores import TraceStore
from tests.support.polling import NotYet, poll_until
from tools.scenario_table import load_scenarios

SCENARIO = next(s for s in load_scenarios() if s["name"] == "parallel")
RATE = 20.0  # requests per second
OUTAGE_S = 60.0
WARM_UP_ANSWERS = 20  # the load is flowing before the fault
AFTER_ANSWERS = 100  # requests sent after the fault ends (5 s at RATE)
# Generous: a busy 2-core machine, 1200+ traces, a Collector queue draining.
COUNT_TIMEOUT_S = 120.0


@dataclass
class Figures:
    fault: str
    sent: int = 0
    answered_ok: int = 0  # the traces that must be complete: answered 200
    complete: int = 0
    missing: dict[str, str] = field(default_factory=dict)
    outage_s: float = 0.0
    recovery_s: float = 0.0  # from the fault's end until every trace sent by then was complete
    not_ok: dict[str, str] = field(default_factory=dict)  # X-Trace-ID -> status/error, not 200
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"{self.fault:<28} sent {self.sent:>5}  answered 200 {self.answered_ok:>5}  "
                f"complete {self.complete:>5}  missing {len(self.missing):>4}  "
                f"outage {self.outage_s:5.1f}s  recovery {self.recovery_s:5.1f}s")


class ChaosStack(Protocol):
    """What a fault acts on, by role: "collector" (where the services send),
    "store", "queue" (the Collectors holding the persistent export queue), or a
    service's name. tests/chaos/stacks.py maps the roles onto the native
    processes and onto the compose containers."""

    gateway_url: str

    def stop(self, role: str) -> int | None: ...  # the exit code of the (first) process stopped

    def start(self, role: str) -> None: ...  # returns once it is ready again

    def collector_accepted_spans(self) -> int: ...  # spans the "queue" Collectors' receivers accepted


@dataclass
class Chaos:
    """What a fault needs: the stack, its gateway and its store."""

    stack: ChaosStack
    store: TraceStore

    @property
    def gateway_url(self) -> str:
        return self.stack.gateway_url

    def load(self, prefix: str) -> Load:
        return Load(self.gateway_url, SCENARIO["path"], prefix, rate=RATE)


def outage(seconds: float) -> float:
    """Hold a fault for `seconds` (the duration under test); returns the measured length."""
    began = time.monotonic()
    poll_until(lambda: time.monotonic() - began >= seconds or NotYet(f"{time.monotonic() - began:.1f}s"),
               timeout=seconds + 5, interval=0.5, describe=f"the {seconds:g} s outage to elapse")
    return time.monotonic() - began


def answered_ok(records: list[Sent]) -> list[Sent]:
    return [r for r in records if r.status == 200 and r.otel_trace_id]


def after_the_fault(figures: Figures, chaos: Chaos, load: Load, fault_ended: float, counted_from: float = 0.0
                    ) -> Figures:
    """With the load going on for 5 s more: the recovery time is how long after
    the fault's end every trace sent until then is complete (an upper bound:
    one pass over the pending traces). Then the count: every request answered
    200 and sent from `counted_from` on must have a complete trace."""
    load.stop_after(AFTER_ANSWERS)
    backlog = [r for r in load.sent if counted_from <= r.started < fault_ended]
    poll_until(lambda: all(r.finished for r in backlog) or NotYet("requests of the fault still unanswered"),
               timeout=30, interval=0.1, describe="every request sent during the fault to be answered")
    early: Count = count_complete(chaos.store, answered_ok(backlog), SCENARIO["tree"], COUNT_TIMEOUT_S)
    figures.recovery_s = time.monotonic() - fault_ended if not early.missing else float("nan")
    poll_until(lambda: not load.running or NotYet(f"{len(load.sent)} sent"), timeout=AFTER_ANSWERS / RATE + 30,
               interval=0.1, describe="the load after the fault to be sent")
    records = [r for r in load.stop() if r.started >= counted_from]  # stop() waits for the last answers
    ok = answered_ok(records)
    figures.sent = len(records)
    figures.answered_ok = len(ok)
    figures.not_ok = {r.x_trace_id: str(r.status or r.error) for r in records if r not in ok}
    rest: Count = count_complete(chaos.store, [r for r in ok if r.started >= fault_ended], SCENARIO["tree"],
                                 COUNT_TIMEOUT_S)
    figures.complete = len(early.complete) + len(rest.complete)
    figures.missing = {**early.missing, **rest.missing}
    return figures


# ---------------------------------------------------------------- the faults
def collector_down(chaos: Chaos) -> Figures:
    figures = Figures("collector down 60 s")
    with chaos.load("chaos-collector-down") as load:
        load.wait_answered(WARM_UP_ANSWERS, since=0)
        chaos.stack.stop("collector")
        figures.outage_s = outage(OUTAGE_S)
        chaos.stack.start("collector")
        ended = time.monotonic()
        return after_the_fault(figures, chaos, load, ended)


def restart(role: str, title: str) -> Callable[[Chaos], Figures]:
    """SIGTERM, then start at once (on Kubernetes: the pod deleted, its
    replacement Ready): the services' exports fail only for the gap."""
    def run(chaos: Chaos) -> Figures:
        figures = Figures(title)
        with chaos.load(f"chaos-{role}-restart") as load:
            load.wait_answered(WARM_UP_ANSWERS, since=0)
            began = time.monotonic()
            chaos.stack.stop(role)
            chaos.stack.start(role)
            ended = time.monotonic()
            figures.outage_s = ended - began
            return after_the_fault(figures, chaos, load, ended)
    return run


collector_restart = restart("collector", "collector restart")
# One sampling pod of two deleted (Kubernetes): at SIGTERM it decides the traces
# it holds and drains its queue; the routing tier retries what that pod did not
# take over the pods its resolver knows then.
sampler_restart = restart("sampler", "sampling pod deleted")


def queue_survives_collector_restart(chaos: Chaos) -> Figures:
    """Spans the Collector accepted but could not deliver (the store is down) are
    on disk when it gets SIGTERM, and delivered after it starts again. No load
    runs across the restart, so only the Collector's persistent queue is tested."""
    figures = Figures("queued spans, collector restart")
    spans_per_trace = len(_one_complete_trace(chaos).spans)
    chaos.stack.stop("store")
    began = time.monotonic()
    try:
        accepted_before = chaos.stack.collector_accepted_spans()
        load = chaos.load("chaos-queue-restart")
        with load:
            load.wait_answered(AFTER_ANSWERS, since=0)
        expected = accepted_before + spans_per_trace * len(answered_ok(load.sent))
        poll_until(lambda: chaos.stack.collector_accepted_spans() >= expected
                   or NotYet(f"{chaos.stack.collector_accepted_spans()} of {expected} spans accepted"),
                   timeout=60, interval=0.5, describe="the Collector to hold every span of the load")
        chaos.stack.stop("queue")
        chaos.stack.start("queue")
    finally:
        chaos.stack.start("store")
    ended = time.monotonic()
    figures.outage_s = ended - began
    return after_the_fault(figures, chaos, load, ended)


def store_down(chaos: Chaos) -> Figures:
    """Jaeger keeps traces in memory, so it starts empty: only traces sent from
    the moment it stopped are counted."""
    figures = Figures("trace store down 60 s")
    chaos.stack.stop("store")
    with chaos.load("chaos-store-down") as load:
        figures.outage_s = outage(OUTAGE_S)
        chaos.stack.start("store")
        ended = time.monotonic()
        return after_the_fault(figures, chaos, load, ended)


def store_restart(chaos: Chaos) -> Figures:
    """The store's pod deleted under load (Kubernetes): a new pod starts on an
    empty disk, so only traces sent from the deletion on are counted; those
    must all arrive, queued by the Collector while no store answered."""
    figures = Figures("trace store pod deleted")
    with chaos.load("chaos-store-restart") as load:
        load.wait_answered(WARM_UP_ANSWERS, since=0)
        began = time.monotonic()
        chaos.stack.stop("store")
        chaos.stack.start("store")
        ended = time.monotonic()
        figures.outage_s = ended - began
        figures.notes.append(f"{sum(r.started < began for r in load.sent)} request(s) sent before the deletion "
                             "not counted: their traces were on the deleted pod's disk")
        return after_the_fault(figures, chaos, load, ended, counted_from=began)


def service_sigterm(service: str) -> Callable[[Chaos], Figures]:
    def run(chaos: Chaos) -> Figures:
        figures = Figures(f"SIGTERM {service}")
        with chaos.load(f"chaos-sigterm-{service}") as load:
            load.wait_answered(WARM_UP_ANSWERS, since=0)
            began = time.monotonic()
            code = chaos.stack.stop(service)
            if code != 0:
                figures.notes.append(f"{service} exited {code} on SIGTERM")
            chaos.stack.start(service)
            ended = time.monotonic()
            figures.outage_s = ended - began
            figures = after_the_fault(figures, chaos, load, ended)
        accepted = accepted_but_not_answered(chaos, service, [r for r in load.sent if r.status != 200])
        if accepted:
            figures.notes.append(f"accepted by {service} but not answered 200: {accepted}")
        in_flight = [r for r in load.sent if r.in_flight_at(began)]
        figures.notes.append(f"{len(in_flight)} request(s) in flight at the gateway at SIGTERM, "
                             f"{sum(r.status == 200 for r in in_flight)} answered 200; "
                             f"{len(figures.not_ok)} refused while {service} was down")
        return figures
    return run


def accepted_but_not_answered(chaos: Chaos, service: str, failed: list[Sent]) -> dict[str, str]:
    """Failed requests that `service` had accepted (its SERVER span is stored):
    those were in flight at the service, and a drain must answer them. A
    request it never accepted (refused while it was down) has no such span."""
    found = {}
    for record in failed:
        ids = [record.otel_trace_id] if record.otel_trace_id else \
            chaos.store.find_traces_by_x_trace_id(record.x_trace_id, record.sent_at - 1)
        for trace_id in ids:
            trace = chaos.store.get_trace(trace_id)
            if trace and any(s.service == service and s.kind == "SERVER" for s in trace.spans):
                found[record.x_trace_id] = str(record.status or record.error)
    return found


def _one_complete_trace(chaos: Chaos):
    """A fresh complete trace of the scenario: how many spans one request makes."""
    with chaos.load("chaos-probe") as load:
        load.wait_answered(1, since=0)
    records: list[Sent] = [r for r in load.sent if r.status == 200][:1]
    count = count_complete(chaos.store, records, SCENARIO["tree"], timeout=30)
    assert count.complete, f"no complete probe trace: {count.missing}"
    return chaos.store.get_trace(count.complete[0].otel_trace_id)


# name -> procedure; the order is the order of a full run.
KUBE_FAULTS: dict[str, Callable[[Chaos], Figures]] = {
    "collector-restart": collector_restart,
    "sampler-restart": sampler_restart,
    "store-restart": store_restart,
    "sigterm-service-a": service_sigterm("service-a"),
    "sigterm-service-b": service_sigterm("service-b"),
    "sigterm-service-c": service_sigterm("service-c"),
}
FAULTS: dict[str, Callable[[Chaos], Figures]] = {
    "collector-down-60s": collector_down,
    "collector-restart": collector_restart,
    "queue-survives-collector-restart": queue_survives_collector_restart,
    "store-down-60s": store_down,
    "sigterm-service-a": service_sigterm("service-a"),
    "sigterm-service-b": service_sigterm("service-b"),
    "sigterm-service-c": service_sigterm("service-c"),
}

"""The measurements of the benchmark report (benchmarks/report.py), one
function per figure. Each returns plain data; report.py renders it.

Load comes from the project's generators: the chaos suite's paced load
(tests/chaos/load.py: /api/demo/parallel at a fixed rate, open loop, every
request with a known X-Trace-ID, latency from its scheduled start to its
answer) and Locust (load/, `python -m load --record`, the scenario mix).
Traces are judged by the e2e suite's rule (tests/support/trace_tree.py via
tests/chaos/load.py): the scenario's exact tree, no span missing its parent.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import requests
import yaml

from benchmarks.processes import UNTRACED_ENV, cpu_seconds, pids, rss_mib, snapshot
from benchmarks.report_text import Distribution, collector_counters, counter_deltas, ratio
from benchmarks.saturation import find_saturation
from tests.chaos.load import Load, Sent, count_complete, incomplete_reason
from tests.stores import TraceStore
from tests.stores.jaeger import JaegerStore
from tests.support.polling import NotYet, PollTimeout, poll_until
from tests.support.store_waits import complete as all_spans_present
from tools.native.settings import REPO
from tools.native.stack import SERVICES, NativeStack
from tools.scenario_table import hop_count

PARALLEL = "/api/demo/parallel"
# Enough threads that the paced load stays open-loop up to well past saturation.
LOAD_WORKERS = 64
JAEGER_CONFIG = REPO / "tools" / "native" / "jaeger.yaml"


class BenchStack(NativeStack):
    """The native stack, with the services' tracing switchable between restarts
    (the same build, the same Collector, store and gateway)."""

    traced = True
    # A copy of tools/native/jaeger.yaml with a larger max_traces, while set.
    jaeger_config: Path | None = None

    def _describe(self, name: str):
        process = super()._describe(name)
        if name == "jaeger" and self.jaeger_config is not None:
            process.command = [process.command[0], "--config", str(self.jaeger_config)]
        return process

    def restart_store(self, max_traces: int | None, workdir: Path) -> None:
        """Restart Jaeger (empty) with room for `max_traces`, or as shipped
        (None): a load of more traces than the shipped bound could not be
        counted whole after it ends, its first traces already evicted."""
        self.jaeger_config = None
        if max_traces is not None:
            config = yaml.safe_load(JAEGER_CONFIG.read_text())
            for backend in config["extensions"]["jaeger_storage"]["backends"].values():
                if "memory" in backend:
                    backend["memory"]["max_traces"] = max_traces
            self.jaeger_config = workdir / "jaeger-larger.yaml"
            self.jaeger_config.write_text(yaml.safe_dump(config))
        self.stop_component("jaeger")
        self.start_component("jaeger")

    def _service_process_env(self, name: str) -> dict[str, str]:
        env = super()._service_process_env(name)
        if not self.traced:
            env.update(UNTRACED_ENV)
        return env

    def restart_collector(self, overrides: dict[str, str]) -> None:
        """Restart the Collector with these variables on top of the shipped ones."""
        self.collector_overrides = dict(overrides)
        self.stop_component("collector")
        self.start_component("collector")

    def restart_services(self, traced: bool) -> None:
        self.traced = traced
        for name in SERVICES:
            self.stop_component(name)
            self.start_component(name)


def shipped_decision_wait() -> str:
    """The tail sampling decision wait the shared Collector config defaults to."""
    text = (REPO / "observability" / "otel-collector.yaml").read_text()
    return re.search(r"decision_wait: \$\{env:SAMPLING_DECISION_WAIT:-([^}]+)\}", text)[1]


def shipped_max_traces() -> int:
    """The store's bound as shipped (the first in-memory backend's)."""
    config = yaml.safe_load(JAEGER_CONFIG.read_text())
    return next(backend["memory"]["max_traces"]
                for backend in config["extensions"]["jaeger_storage"]["backends"].values() if "memory" in backend)


# ------------------------------------------------------------ processes
def stack_cpu_seconds(stack: NativeStack) -> float:
    return sum(snapshot(cpu_seconds, pids(stack)).values())


def memory_now(stack: NativeStack) -> dict[str, float]:
    return snapshot(rss_mib, pids(stack))


@dataclass
class MemorySample:
    seconds: float  # since the sampler started
    stage: str
    mib: dict[str, float]


class MemorySampler:
    """Resident memory of every stack process, every `interval` seconds, in a
    thread, labelled with the stage running: the timeline and the peaks."""

    def __init__(self, stack: NativeStack, interval: float):
        self.stack, self.interval = stack, interval
        self.stage = "start"
        self.samples: list[MemorySample] = []
        self._stop = threading.Event()
        self._began = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self.samples.append(MemorySample(time.monotonic() - self._began, self.stage, memory_now(self.stack)))
            if self._stop.wait(self.interval):
                return

    def peaks(self, skip: Callable[[str, str], bool] = lambda _name, _stage: False) -> dict[str, float]:
        """The highest sample per process, leaving out those `skip(process, stage)` names."""
        peaks: dict[str, float] = {}
        for sample in self.samples:
            for name, mib in sample.mib.items():
                if not skip(name, sample.stage):
                    peaks[name] = max(peaks.get(name, 0.0), mib)
        return peaks


# ------------------------------------------------------------ load
def paced_parallel(gateway: str, rate: float, seconds: float, prefix: str) -> list[Sent]:
    """/api/demo/parallel at `rate` per second for `seconds`; every answer awaited."""
    count = max(1, round(rate * seconds))
    with Load(gateway, PARALLEL, prefix, rate=rate, limit=count, workers=LOAD_WORKERS) as load:
        poll_until(lambda: not load.running or NotYet(f"{len(load.sent)} of {count} sent"),
                   timeout=seconds + 60, interval=0.2, describe=f"{count} requests at {rate:.0f}/s to be sent")
    return load.sent  # leaving the block waited for every answer


def answered_ok(records: list[Sent]) -> list[Sent]:
    return [r for r in records if r.status == 200]


def latencies_ms(records: list[Sent]) -> list[float]:
    """From each request's scheduled start: time queued in the client counts (open loop)."""
    return [(r.finished - r.started) * 1000 for r in answered_ok(records)]


def achieved_rps(records: list[Sent]) -> float:
    ok = answered_ok(records)
    if not ok:
        return 0.0
    return len(ok) / (max(r.finished for r in records) - min(r.started for r in records))


def locust_mix(gateway: str, rate: float, users: int, seconds: float, workdir: Path, name: str) -> list[dict]:
    """The scenario mix through Locust (`python -m load`); its record, one dict per request."""
    record, log = workdir / f"{name}.jsonl", workdir / f"{name}.log"
    # Locust patches the standard library in its own process; nothing of ours leaks in.
    env = {key: value for key, value in os.environ.items() if key != "LOCUST_SKIP_MONKEY_PATCH"}
    with log.open("w") as out:
        subprocess.run([sys.executable, "-m", "load", "--host", gateway, "--rate", f"{rate:g}",
                        "--users", str(users), "--duration", f"{max(1, round(seconds))}s", "--record", str(record)],
                       cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=seconds + 120, check=False)
    return [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []


# ------------------------------------------------------------ figures
@dataclass
class RatePoint:
    offered: float
    achieved: float
    sent: int
    ok: int
    latency: Distribution


def throughput_curve(gateway: str, rates: list[float], seconds: float, run_id: str) -> list[RatePoint]:
    points = []
    for rate in rates:
        records = paced_parallel(gateway, rate, seconds, f"bench-{run_id}-rate{rate:.0f}")
        points.append(RatePoint(rate, achieved_rps(records), len(records), len(answered_ok(records)),
                                Distribution.of(latencies_ms(records))))
    return points


@dataclass
class Completeness:
    label: str
    rate: float
    seconds: float
    sent: int
    ok: int
    complete: int
    missing: dict[str, str]
    counted_in_s: float
    # Of the incomplete ones: every span there (the e2e suite's looser rule,
    # tests/support/store_waits.py), but the tree differs, e.g. in timing.
    all_spans: int = 0
    counters: dict[str, float] = field(default_factory=dict)

    @property
    def percent(self) -> float:
        return 100.0 * ratio(self.complete, self.ok)


def read_collector_counters(stack: NativeStack) -> dict[str, float]:
    url = f"http://127.0.0.1:{stack.ports.collector_telemetry}/metrics"
    return collector_counters(requests.get(url, timeout=5, proxies={"http": None}).text)


ACCEPTED, SENT = "otelcol_receiver_accepted_spans otlp", "otelcol_exporter_sent_spans otlp_http/trace-store"


def collector_idle(stack: NativeStack, timeout: float = 60.0) -> dict[str, float]:
    """The Collector's counters once it has sent the store every span it
    accepted. Tail sampling holds each trace for its decision wait, so spans
    of an earlier stage are still leaving for a few seconds after it ends; at
    the shipped 100 % baseline every accepted span is sent."""
    def idle():
        counters = read_collector_counters(stack)
        accepted, sent = counters.get(ACCEPTED, 0.0), counters.get(SENT, 0.0)
        return counters if accepted == sent else NotYet(f"accepted {accepted:.0f} spans, sent {sent:.0f}")

    return poll_until(idle, timeout=timeout, interval=0.5, describe="the Collector to send every span it accepted")


def completeness(stack: NativeStack, tree: dict, label: str, rate: float, seconds: float, settle: float,
                 run_id: str) -> Completeness:
    before = collector_idle(stack)
    records = paced_parallel(stack.gateway_url, rate, seconds, f"bench-{run_id}-{label}")
    ok = [r for r in answered_ok(records) if r.otel_trace_id]
    store = JaegerStore(stack.store_url)
    count = count_complete(store, ok, tree, settle)
    deltas = counter_deltas(before, collector_idle(stack))
    has_all_spans = all_spans_present(hop_count(tree))
    all_spans = 0
    for record in (r for r in ok if r.x_trace_id in count.missing):
        trace = store.get_trace(record.otel_trace_id)
        all_spans += trace is not None and has_all_spans(trace) is True
    return Completeness(label, rate, seconds, len(records), len(ok), len(count.complete), count.missing,
                        count.seconds, all_spans, deltas)


@dataclass
class Queryable:
    by_id_s: list[float]
    by_search_s: list[float]
    timeouts: int


def queryable_delays(gateway_url: str, make_store: Callable[[], TraceStore], tree: dict, samples: int, run_id: str,
                     timeout: float = 30.0) -> Queryable:
    """One request at a time, then two pollers from the moment its answer is
    read: the trace complete by id, and the trace found by the store's search
    (Jaeger: service + app.x_trace_id tag; Tempo: TraceQL on app.x_trace_id)."""
    by_id, by_search, timeouts = [], [], 0
    session = requests.Session()
    session.trust_env = False
    id_store, search_store = make_store(), make_store()
    interval = 0.02  # the resolution of the figure, with one query's own time
    with ThreadPoolExecutor(max_workers=2) as pool:
        for n in range(samples):
            x_trace_id = f"bench-{run_id}-queryable-{n:04d}"
            since = time.time() - 1
            body = session.get(gateway_url + PARALLEL, headers={"X-Trace-ID": x_trace_id}, timeout=15).json()
            answered = time.monotonic()
            record = Sent(x_trace_id, answered, otel_trace_id=body["otel_trace_id"])

            def complete_by_id(record=record):
                reason = incomplete_reason(id_store, record, tree)
                return True if not reason else NotYet(reason)

            def found_by_search(record=record, since=since):
                found = search_store.find_traces_by_x_trace_id(record.x_trace_id, since)
                return record.otel_trace_id in found or NotYet(f"search found {found}")

            def delay(check) -> float | None:
                try:
                    poll_until(check, timeout=timeout, interval=interval, describe="the trace")
                except PollTimeout:
                    return None
                return time.monotonic() - answered

            got_id, got_search = pool.submit(delay, complete_by_id), pool.submit(delay, found_by_search)
            for future, into in ((got_id, by_id), (got_search, by_search)):
                value = future.result()
                if value is None:
                    timeouts += 1
                else:
                    into.append(value)
    return Queryable(by_id, by_search, timeouts)


@dataclass
class Arm:
    pair: int
    traced: bool
    throughput: float
    latency: Distribution
    cpu_ms_per_request: float
    ok: int


def tracing_arm(stack: BenchStack, pair: int, traced: bool, rate: float, seconds: float, saturation_s: float,
                run_id: str) -> Arm:
    stack.restart_services(traced)
    tag = f"bench-{run_id}-{'traced' if traced else 'untraced'}-{pair}"
    paced_parallel(stack.gateway_url, rate, min(3.0, seconds), f"{tag}-warm")  # connections, JIT, caches
    throughput = find_saturation(stack.gateway_url, saturation_s).rps
    cpu_before = stack_cpu_seconds(stack)
    records = paced_parallel(stack.gateway_url, rate, seconds, tag)
    cpu = stack_cpu_seconds(stack) - cpu_before
    ok = len(answered_ok(records))
    return Arm(pair, traced, throughput, Distribution.of(latencies_ms(records)), 1000 * ratio(cpu, ok), ok)

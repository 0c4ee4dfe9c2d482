"""The checks of `make kube-check` on the installed releases, each one verdict."""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from pathlib import Path

import requests

from tests.chaos.load import Sent, count_complete, incomplete_reason
from tests.stores import make_store
from tests.support.polling import NotYet, poll_until
from tools.compose_check.checks import Urls, pytest_stage
from tools.compose_check.responses import Verdict
from tools.scenario_table import load_scenarios

from .cluster import LogFiles, Pod, kubectl, pods
from .install import BACKENDS, NAMESPACE, RELEASE, SERVICES

NAMESPACES = (NAMESPACE, *(b.release for b in BACKENDS))
READY_TIMEOUT_S = 600.0
HTTP_TIMEOUT_S = 15
TEMPO_HTTP_PORT = 3200  # observability/tempo/tempo.yaml, server.http_listen_port
LOKI_HTTP_PORT = 3100  # the loki chart's
SAMPLER = "collector-sampling"
METRICS_PORT = 8888  # the Collectors' own telemetry (values.yaml ports.collectorMetrics)
PARALLEL = next(s for s in load_scenarios() if s["name"] == "parallel")
_METRIC = r'^otelcol_processor_tail_sampling_{name}(?:_total)?(?:\{{[^}}]*\}})? (\S+)$'


def service_url(namespace: str, service: str, port: int | None = None) -> str:
    """http://<ClusterIP>:<port, by default its first>: this node routes ClusterIPs."""
    address = kubectl("-n", namespace, "get", "service", service, "-o", "jsonpath={.spec.clusterIP}")
    port = port or int(kubectl("-n", namespace, "get", "service", service, "-o", "jsonpath={.spec.ports[0].port}"))
    return f"http://{address}:{port}"


def node_port(namespace: str, service: str) -> int:
    return int(kubectl("-n", namespace, "get", "service", service, "-o", "jsonpath={.spec.ports[0].nodePort}"))


def urls() -> Urls:
    """The gateway on its NodePort on this node's loopback (the load generator
    sends to loopback only); the rest on their ClusterIPs, which this node routes."""
    return Urls(gateway=f"http://127.0.0.1:{node_port(NAMESPACE, f'{RELEASE}-gateway')}",
                tempo=service_url("tempo", "tempo", TEMPO_HTTP_PORT), loki=service_url("loki", "loki", LOKI_HTTP_PORT),
                prometheus="", grafana="",
                services={s: service_url(NAMESPACE, f"{RELEASE}-{s}") for s in SERVICES})


def not_ready(found: list[Pod]) -> list[str]:
    return [f"{p.namespace}/{p.name} {p.phase}{' deleting' if p.deleting else ''}" for p in found
            if not p.ready or p.deleting]


def wait_ready(namespaces: tuple[str, ...], timeout: float = READY_TIMEOUT_S) -> list[Pod]:
    def ready():
        found = pods(*namespaces)
        waiting = not_ready(found)
        return (found and not waiting and found) or NotYet(f"not ready: {waiting or 'no pods yet'}")

    return poll_until(ready, timeout=timeout, interval=1, describe=f"every pod Ready in {', '.join(namespaces)}")


def check_e2e(stack: Urls) -> Verdict:
    with tempfile.TemporaryDirectory(prefix="kube-logs-") as folder:
        logs = LogFiles(NAMESPACE, Path(folder), ("gateway", *SERVICES))
        try:
            # The chart's default, which kube-check keeps: POST /test is off.
            return pytest_stage(stack, ["-q", "tests/e2e"], {"E2E_LOG_DIR": folder, "E2E_CONFORMANCE_ENDPOINT": "off"})
        finally:
            logs.close()


def check_chaos(stack: Urls) -> Verdict:
    return pytest_stage(stack, ["-q", "-s", "tests/chaos", "-m", "chaos"], {"CHAOS_STACK": "kube"})


def _sampler_metric(pod: Pod, name: str) -> float:
    text = requests.get(f"http://{pod.ip}:{METRICS_PORT}/metrics", timeout=5).text
    return sum(float(v) for v in re.findall(_METRIC.format(name=name), text, re.M))


def _samplers() -> list[Pod]:
    return [p for p in pods(NAMESPACE) if p.workload == SAMPLER and not p.deleting]


def _quiet(samplers: list[Pod]) -> bool | NotYet:
    """Every trace a sampling pod has received is decided (sampled or not)."""
    pending = {p.name: _sampler_metric(p, "new_trace_id_received") - _sampler_metric(p, "global_count_traces_sampled")
               for p in samplers}
    return not any(pending.values()) or NotYet(f"traces awaiting a decision: {pending}")


def check_routing(stack: Urls, count: int = 200) -> Verdict:
    """Each trace id reaches exactly one sampling pod: with nothing else in
    flight, the pods' counts of new trace ids grow by exactly `count` in total
    for `count` traces (a trace split across two pods would be counted twice),
    every pod gets some, and every trace is complete in the store."""
    samplers = _samplers()
    if len(samplers) < 2:
        return Verdict(False, f"{len(samplers)} sampling pod(s); the routing needs two or more")
    poll_until(lambda: _quiet(samplers), timeout=60, interval=1, describe="the sampling pods to hold no trace")
    before = {p.name: _sampler_metric(p, "new_trace_id_received") for p in samplers}
    records = []
    with requests.Session() as session:
        for n in range(count):
            record = Sent(f"kube-routing-{time.time_ns()}-{n}", time.monotonic(), time.time())
            answer = session.get(stack.gateway + PARALLEL["path"], headers={"X-Trace-ID": record.x_trace_id},
                                 timeout=HTTP_TIMEOUT_S)
            record.status, record.finished = answer.status_code, time.monotonic()
            record.otel_trace_id = answer.json().get("otel_trace_id", "") if answer.ok else ""
            records.append(record)
    # The pods count a trace when they first process one of its spans, which
    # can be a moment after the answer: wait for the count, then for the decisions.
    def grown_now() -> dict[str, float]:
        return {p.name: _sampler_metric(p, "new_trace_id_received") - before[p.name] for p in samplers}

    poll_until(lambda: sum(grown_now().values()) >= count or NotYet(f"new trace ids: {grown_now()}"), timeout=60,
               interval=0.5, describe=f"the sampling pods to receive {count} traces")
    poll_until(lambda: _quiet(samplers), timeout=60, interval=1, describe="the sampling pods to decide every trace")
    grown = grown_now()
    counted = count_complete(make_store("tempo", stack.tempo), [r for r in records if r.status == 200],
                             PARALLEL["tree"], timeout=120)
    shares = ", ".join(f"{name}: {int(n)}" for name, n in sorted(grown.items()))
    detail = (f"{count} traces sent; new trace ids per sampling pod {shares} (sum {int(sum(grown.values()))}); "
              f"{len(counted.complete)} complete in Tempo")
    ok = (sum(grown.values()) == count and all(grown.values()) and len(counted.complete) == count)
    return Verdict(ok, detail + (f"; missing {dict(list(counted.missing.items())[:5])}" if counted.missing else ""))


def measure_trace_latency(stack: Urls, count: int = 10) -> Verdict:
    """From a response at the gateway to its trace complete in Tempo, one request
    at a time: the sampling tier's decision wait (5 s) plus Tempo's ingest."""
    store = make_store("tempo", stack.tempo)
    delays = []
    for n in range(count):
        x_trace_id = f"kube-latency-{time.time_ns()}-{n}"
        answer = requests.get(stack.gateway + PARALLEL["path"], headers={"X-Trace-ID": x_trace_id},
                              timeout=HTTP_TIMEOUT_S)
        answered = time.monotonic()
        record = Sent(x_trace_id, answered, time.time(), answered, answer.status_code,
                      answer.json().get("otel_trace_id", ""))
        poll_until(lambda: not (reason := incomplete_reason(store, record, PARALLEL["tree"])) or NotYet(reason),
                   timeout=60, interval=0.25, describe=f"the trace of {x_trace_id} complete in Tempo")
        delays.append(time.monotonic() - answered)
    return Verdict(True, f"{count} requests one at a time, response -> trace complete in Tempo: median "
                         f"{statistics.median(delays):.1f}s, max {max(delays):.1f}s")


def pods_healthy(peaks: dict[str, tuple[int, int | None]], ceiling_percent: float) -> Verdict:
    """Every pod Ready, none restarted (an OOM kill is a restart), and each
    workload's memory peak under `ceiling_percent` of its limit."""
    found = pods(*NAMESPACES)
    problems = not_ready(found) + [f"{p.namespace}/{p.name} restarted {p.restarts}x" for p in found if p.restarts]
    figures = []
    for workload, (peak, limit) in sorted(peaks.items()):
        share = f" of {limit / 2**20:.0f} MiB ({100 * peak / limit:.0f} %)" if limit else " (no limit)"
        figures.append(f"{workload} {peak / 2**20:.0f} MiB{share}")
        if limit and 100 * peak / limit > ceiling_percent:
            problems.append(f"{workload} peaked at {100 * peak / limit:.0f} % of its limit")
    return Verdict(not problems, f"{len(found)} pods; peaks: {', '.join(figures)}"
                   + (f"; PROBLEMS: {problems}" if problems else ""))

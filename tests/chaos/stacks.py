"""The chaos suite's roles ("collector", "store", "queue", a service) mapped
onto the ways the stack runs: native processes, compose containers, pods of the chart."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field

import requests

from tests.support.polling import NotYet, poll_until
from tools.compose_check.stack import Compose, docker, fetch_inside
from tools.kube_check.cluster import kubectl, pods, watch_exit_code
from tools.native.stack import NativeStack

_ACCEPTED = re.compile(r'^otelcol_receiver_accepted_spans(?:_total)?\{[^}]*receiver="otlp"[^}]*\} (\S+)$', re.M)
START_TIMEOUT_S = 120.0


def accepted_spans(metrics_text: str) -> int:
    """The Collector's own count of spans its OTLP receiver accepted (Prometheus text format)."""
    return int(sum(float(value) for value in _ACCEPTED.findall(metrics_text)))


@dataclass
class NativeChaosStack:
    """One Collector receives, samples and queues; Jaeger is the store."""

    native: NativeStack
    roles = {"collector": ("collector",), "queue": ("collector",), "store": ("jaeger",)}

    @property
    def gateway_url(self) -> str:
        return self.native.gateway_url

    def stop(self, role: str) -> int | None:
        codes = [self.native.stop_component(name) for name in self.roles.get(role, (role,))]
        return codes[0]

    def start(self, role: str) -> None:
        for name in self.roles.get(role, (role,)):
            self.native.start_component(name)

    def collector_accepted_spans(self) -> int:
        url = f"http://127.0.0.1:{self.native.ports.collector_telemetry}/metrics"
        return accepted_spans(requests.get(url, timeout=5, proxies={"http": None}).text)


@dataclass
class ComposeChaosStack:
    """The services send to the routing Collector; the two samplers hold the
    persistent queues to Tempo. A role is ready again when the endpoint the
    stack's own readiness probe (the `ready` service) waits on answers."""

    gateway_url: str
    compose: Compose = field(default_factory=Compose)
    roles = {"collector": ("otel-collector",), "store": ("tempo",),
             "queue": ("otel-collector-sampler-1", "otel-collector-sampler-2")}
    queue_metrics_port = 8888  # the samplers' own telemetry, unpublished (docker-compose.yml)

    def stop(self, role: str) -> int | None:
        names = self.roles.get(role, (role,))
        self.compose.run("stop", *names)
        state = json.loads(docker("inspect", *self.compose.container_ids(names[0])))[0]["State"]
        return state["ExitCode"]

    def start(self, role: str) -> None:
        names = self.roles.get(role, (role,))
        self.compose.run("start", *names)
        urls = self.compose.config()["services"]["ready"]["environment"]["READY_URLS"].split()
        for name in names:
            url = next(u for u in urls if f"//{name}:" in u or u.endswith(f"/{name}/health"))
            poll_until(lambda url=url: self._answers(url) or NotYet(f"{url} does not answer"),
                       timeout=START_TIMEOUT_S, interval=1, describe=f"{name} to be ready")

    def _answers(self, url: str) -> bool:
        try:
            fetch_inside(self.compose.network(), url)
        except subprocess.CalledProcessError:
            return False
        return True

    def collector_accepted_spans(self) -> int:
        return sum(accepted_spans(fetch_inside(self.compose.network(), f"http://{name}:{self.queue_metrics_port}/metrics"))
                   for name in self.roles["queue"])


@dataclass
class KubeChaosStack:
    """The chart on the cluster of ../shared/kube (make kube-check): a role's
    pod is deleted (SIGTERM, grace period) and its controller starts a new one;
    a role is ready again when its controller has as many Ready pods as before."""

    gateway_url: str
    namespace: str = "demo"
    # role -> (namespace or None for the chart's, workload label, how many of its pods)
    roles = {"collector": (None, "collector", "all"), "sampler": (None, "collector-sampling", "one"),
             "queue": (None, "collector-sampling", "all"), "store": ("tempo", "tempo", "all")}

    def _pods(self, role: str):
        namespace, workload, _ = self.roles.get(role, (None, role, "all"))
        return [p for p in pods(namespace or self.namespace) if p.workload == workload and not p.deleting]

    def stop(self, role: str) -> int | None:
        chosen = self._pods(role)
        if self.roles.get(role, (None, role, "all"))[2] == "one":
            chosen = chosen[:1]
        self._expected = len(self._pods(role))
        with watch_exit_code(chosen[0]) as exit_code:
            kubectl("-n", chosen[0].namespace, "delete", "pod", *(p.name for p in chosen), "--wait=true")
        return exit_code()

    def start(self, role: str) -> None:
        expected = getattr(self, "_expected", 1)
        poll_until(lambda: (len(ready := [p for p in self._pods(role) if p.ready]) >= expected)
                   or NotYet(f"{len(ready)} of {expected} {role} pod(s) Ready"),
                   timeout=START_TIMEOUT_S, interval=1, describe=f"{role} to be Ready again")

    def collector_accepted_spans(self) -> int:
        return sum(accepted_spans(requests.get(f"http://{p.ip}:8888/metrics", timeout=5).text)
                   for p in self._pods("queue"))

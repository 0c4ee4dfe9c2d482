"""The single-node cluster of ../shared/kube (Kubernetes 1.34 on Debian's
containerd, no registry) as `make kube-check` drives it: kubectl and helm,
images moved from the Docker engine into the cluster's containerd, pods and
their facts (readiness, restarts, cgroup memory peaks), container logs."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from tools.native.settings import REPO

KIT = Path(os.environ.get("KUBE_KIT", REPO.parent / "shared" / "kube"))
KUBE_HOME = Path(os.environ.get("KUBE_HOME", Path.home() / ".cache" / "kube"))
BIN = KUBE_HOME / "out" / "bin"
KUBECONFIG = KUBE_HOME / "cluster" / "kc" / "admin.kubeconfig"
CONTAINERD_SOCKET = KUBE_HOME / "cluster" / "run" / "containerd.sock"
# The kubelet runs with the cgroupfs driver on cgroup v1 (the kit's up.sh).
MEMORY_CGROUPS = Path("/sys/fs/cgroup/memory/kubepods")
POD_LOGS = Path("/var/log/pods")
# The kit's address ranges (../shared/kube/README.md).
POD_CIDR = "10.88.0.0/24"
SERVICE_CIDR = "10.96.0.0/12"


def kit_built() -> bool:
    return all((BIN / name).is_file() for name in ("kubectl", "kubelet", "helm"))


def environment() -> dict[str, str]:
    return {**os.environ, "KUBECONFIG": str(KUBECONFIG), "PATH": f"{BIN}:{os.environ['PATH']}"}


def kubectl(*args: str, check: bool = True, timeout: float = 300) -> str:
    return subprocess.run([str(BIN / "kubectl"), *args], capture_output=True, text=True, check=check,
                          timeout=timeout, env=environment()).stdout


def helm(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "helm"), *args], capture_output=True, text=True, timeout=timeout,
                          env=environment(), cwd=REPO)


def cluster_answers() -> bool:
    if not KUBECONFIG.is_file():
        return False
    return subprocess.run([str(BIN / "kubectl"), "get", "--raw", "/readyz"], capture_output=True, timeout=30,
                          env=environment()).returncode == 0


def kit_command(script: str) -> subprocess.CompletedProcess[str]:
    """up.sh or down.sh of the kit, its output shown as it comes; raises when it fails."""
    return subprocess.run(["bash", str(KIT / script)], env=environment(), text=True, timeout=600, check=True)


def import_image(image: str) -> None:
    """docker save | ctr import: the cluster has no registry to pull from."""
    save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
    imported = subprocess.run(["ctr", "-a", str(CONTAINERD_SOCKET), "-n", "k8s.io", "images", "import", "-"],
                              stdin=save.stdout, capture_output=True, text=True, timeout=600)
    save.stdout.close()
    if save.wait() != 0 or imported.returncode != 0:
        raise subprocess.CalledProcessError(imported.returncode, f"import {image}", imported.stdout, imported.stderr)


@dataclass(frozen=True)
class Pod:
    namespace: str
    name: str
    uid: str
    workload: str  # its app.kubernetes.io/name label
    ip: str
    ready: bool
    restarts: int
    phase: str
    memory_limit: int | None  # bytes, the sum over its containers; None when one has no limit
    deleting: bool

    @classmethod
    def from_json(cls, item: dict) -> "Pod":
        meta, spec, status = item["metadata"], item["spec"], item.get("status", {})
        labels = meta.get("labels", {})
        containers = status.get("containerStatuses", [])
        limits = [_bytes(c.get("resources", {}).get("limits", {}).get("memory")) for c in spec["containers"]]
        return cls(meta["namespace"], meta["name"], meta["uid"], labels.get("app.kubernetes.io/name", meta["name"]),
                   status.get("podIP", ""),
                   bool(containers) and all(c.get("ready") for c in containers),
                   sum(c.get("restartCount", 0) for c in containers), status.get("phase", ""),
                   None if None in limits else sum(limits), "deletionTimestamp" in meta)


def _bytes(quantity: str | None) -> int | None:
    if quantity is None:
        return None
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 10**3, "M": 10**6, "G": 10**9}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return int(float(quantity[:-len(suffix)]) * factor)
    return int(quantity)


def pods(*namespaces: str) -> list[Pod]:
    found = []
    for namespace in namespaces:
        found += [Pod.from_json(item) for item in json.loads(kubectl("-n", namespace, "get", "pods", "-o", "json"))["items"]]
    return found


def pod_memory_peak(pod: Pod) -> int | None:
    """The pod cgroup's high-water mark (cgroup v1 memory.max_usage_in_bytes,
    page cache included, as Docker reports a container's)."""
    for qos in ("", "burstable", "besteffort"):
        path = MEMORY_CGROUPS / qos / f"pod{pod.uid}" / "memory.max_usage_in_bytes"
        if path.is_file():
            return int(path.read_text())
    return None


class MemoryWatch:
    """Each pod's memory peak, read every few seconds while the checks run, so
    that a pod replaced by the chaos suite still counts."""

    def __init__(self, namespaces: tuple[str, ...], interval: float = 3.0) -> None:
        self.namespaces = namespaces
        self.peaks: dict[str, tuple[Pod, int]] = {}
        self._stop = threading.Event()
        self._interval = interval
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def sample(self) -> None:
        for pod in pods(*self.namespaces):
            peak = pod_memory_peak(pod)
            if peak is not None and peak >= self.peaks.get(pod.uid, (pod, 0))[1]:
                self.peaks[pod.uid] = (pod, peak)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.sample()
            except (subprocess.SubprocessError, OSError, ValueError):
                continue  # a pod going away between the listing and the read

    def close(self) -> dict[str, tuple[int, int | None]]:
        """Workload -> (highest peak of any of its pods, its memory limit)."""
        self._stop.set()
        self._thread.join()
        self.sample()
        by_workload: dict[str, tuple[int, int | None]] = {}
        for pod, peak in self.peaks.values():
            if peak > by_workload.get(pod.workload, (0, None))[0]:
                by_workload[pod.workload] = (peak, pod.memory_limit)
        return by_workload


class LogFiles:
    """The gateway's and the services' container logs copied into files laid
    out as the native runner writes them (gateway.log, gateway-error.log for
    nginx's stderr, service-*.log), read from the kubelet's CRI log files
    (`<time> <stream> <P|F> <text>`), so the e2e suite's log checks run here too."""

    def __init__(self, namespace: str, folder: Path, workloads: tuple[str, ...]) -> None:
        self._stop = threading.Event()
        self._threads = []
        by_workload = {pod.workload: pod for pod in pods(namespace) if not pod.deleting}
        for name in workloads:
            pod = by_workload[name]
            source = POD_LOGS / f"{namespace}_{pod.name}_{pod.uid}"
            out = open(folder / f"{name}.log", "ab")
            err = open(folder / f"{name}-error.log", "ab") if name == "gateway" else out
            thread = threading.Thread(target=self._follow, args=(source, out, err), daemon=True)
            thread.start()
            self._threads.append((thread, out, err))

    def _follow(self, source: Path, out, err) -> None:
        [log] = sorted(source.glob("*/0.log"))
        partial = {b"stdout": b"", b"stderr": b""}
        with open(log, "rb") as lines:
            while True:
                line = lines.readline()
                if not line.endswith(b"\n"):
                    if self._stop.is_set():
                        return
                    lines.seek(-len(line), os.SEEK_CUR)
                    time.sleep(0.1)  # tail -f: wait for the kubelet to write more
                    continue
                _time, stream, tag, text = line.split(b" ", 3)
                partial[stream] += text[:-1]
                if tag == b"F":
                    target = err if stream == b"stderr" else out
                    target.write(partial[stream] + b"\n")
                    target.flush()
                    partial[stream] = b""

    def close(self) -> None:
        self._stop.set()  # each follower still reads to the end of what was written
        for thread, out, err in self._threads:
            thread.join(timeout=10)
            out.close()
            err.close()


@contextmanager
def watch_exit_code(pod: Pod) -> Iterator[Callable[[], int | None]]:
    """Watch a pod while it is deleted: its first container's exit code, which
    the kubelet reports just before the pod object goes away (None if unseen)."""
    watcher = subprocess.Popen([str(BIN / "kubectl"), "-n", pod.namespace, "get", "pod", pod.name, "--watch",
                                "-o", "jsonpath={.status.containerStatuses[0].state.terminated.exitCode}{\"\\n\"}"],
                               stdout=subprocess.PIPE, text=True, env=environment())
    codes: list[int] = []
    try:
        yield lambda: codes[-1] if codes else None
    finally:
        watcher.terminate()
        output, _ = watcher.communicate(timeout=10)
        codes += [int(line) for line in output.split() if line.strip().isdigit()]


@contextmanager
def service_addresses_refused_until_programmed() -> Iterator[None]:
    """A pod that connects to a Service's address before kube-proxy has written
    its rules sends the packet to the node's default route. On a real network it
    is dropped and the client retries; this machine's network answers every such
    connection itself (HTTP 404 on a keep-alive connection), and an OTLP exporter
    then drops every batch for good. So such connections are refused here, which
    the exporters retry: packets kube-proxy has rewritten to a pod address never
    match the rule."""
    rule = ["FORWARD", "-s", POD_CIDR, "-d", SERVICE_CIDR, "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"]
    subprocess.run(["iptables", "-I", *rule[:1], "1", *rule[1:]], check=True)
    try:
        yield
    finally:
        subprocess.run(["iptables", "-D", *rule], check=False)

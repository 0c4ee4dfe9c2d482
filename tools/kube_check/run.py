"""Orchestration of `make kube-check`: the cluster up, images built and
imported, the backends and the chart installed, the checks, every pod's health
over the whole run, uninstall, a summary."""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from tools.compose_check.responses import Verdict, not_run
from tools.compose_check.run import run_checks, summary
from tools.compose_check.stack import image_present

from . import checks
from .cluster import MemoryWatch, cluster_answers, kit_built, kit_command, service_addresses_refused_until_programmed
from .install import (BACKENDS, NAMESPACE, build_and_import_images, chart_images, install_backends, install_demo,
                      missing_sources, uninstall_all)

# As compose-check: a pod whose memory peaked above this share of its limit is sized too tightly.
MEMORY_CEILING_PERCENT = 70.0

NOT_RUN_HERE = [
    ("Grafana: data sources and panels on the cluster's data",
     "no grafana/grafana image on this machine (no registry; it cannot be built here)"),
    ("Alloy ships the pods' logs to Loki",
     "no grafana/alloy image on this machine (no registry; the stand-ins do not build it)"),
    ("NetworkPolicy: a connection the policies do not allow is refused",
     "the cluster's network plugin (ptp, host-local, firewall, portmap) admits NetworkPolicy but does not "
     "enforce it (../shared/kube/README.md)"),
    ("Prometheus: Tempo's service graph",
     "kube-check installs no Prometheus (docs/kubernetes.md, Install: the prometheus-community chart)"),
]


def prerequisites() -> str | None:
    """Why kube-check cannot run here, or None."""
    if not kit_built():
        return "the cluster kit is not built (../shared/kube/build.sh)"
    lacking = missing_sources()
    if lacking:
        return f"chart sources not on this machine: {', '.join(lacking)} (fetch them into ../.mirror)"
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        return "no Docker engine answers, to build and export the images (../shared/standins/engine.sh start)"
    absent = [image for image in chart_images() if not image_present(image)]
    if absent:
        return f"images not on this machine: {', '.join(absent)} (../shared/standins/images.sh builds them)"
    return None


def timed(name: str, step, results: list[tuple[str, Verdict]]) -> bool:
    print(f"... {name}", flush=True)
    began = time.monotonic()
    try:
        detail = step()
    except Exception as error:  # noqa: BLE001 - any failure of a step is the step's verdict
        results.append((name, Verdict(False, f"{type(error).__name__}: {str(error)[-600:]}")))
        print(f"    FAILED: {results[-1][1].detail}", flush=True)
        return False
    results.append((name, Verdict(True, f"{detail}, {time.monotonic() - began:.0f}s".lstrip(", "))))
    print(f"    ok: {results[-1][1].detail}", flush=True)
    return True


def _ready_after(install, namespaces: tuple[str, ...]) -> str:
    began = time.monotonic()
    install()
    installed = time.monotonic()
    found = checks.wait_ready(namespaces)
    return (f"helm install {installed - began:.0f}s, then {len(found)} pods Ready in "
            f"{time.monotonic() - installed:.0f}s (install -> all Ready {time.monotonic() - began:.0f}s)")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.kube_check", description=__doc__)
    parser.add_argument("--keep-installed", action="store_true", help="leave the releases (and a cluster it "
                                                                      "started) running afterwards")
    parser.add_argument("--ci", action="store_true", help="CI's budget: fewer latency samples, no e2e suite")
    args = parser.parse_args(argv)
    keep, ci = args.keep_installed, args.ci
    why = prerequisites()
    if why:
        print(f"kube-check: not run: {why}")
        return 0
    results: list[tuple[str, Verdict]] = []
    started_cluster = not cluster_answers()
    if started_cluster and not timed("cluster up (../shared/kube/up.sh)", lambda: kit_command("up.sh") and "",
                                     results):
        print(summary(results))
        return 1
    try:
        with service_addresses_refused_until_programmed():
            return _on_cluster(results, keep, ci)
    finally:
        if started_cluster and not keep:
            kit_command("down.sh")
        print(summary(results), flush=True)


def _on_cluster(results: list[tuple[str, Verdict]], keep: bool, ci: bool) -> int:
    if not timed("images built (docker compose build) and imported into the cluster's containerd",
                 lambda: f"{len(build_and_import_images())} images", results):
        return 1
    uninstall_all()  # what an interrupted run left behind
    watch = None
    try:
        # The backends first, Ready before the chart starts: a Collector that
        # connects to the store's ClusterIP before kube-proxy has its rules
        # keeps a connection to nowhere (docs/kubernetes.md, Install).
        with tempfile.TemporaryDirectory(prefix="kube-check-") as workdir:
            if not timed("helm install tempo and loki; every pod Ready",
                         lambda: _ready_after(lambda: install_backends(Path(workdir)),
                                              tuple(b.release for b in BACKENDS)), results):
                return 1
        watch = MemoryWatch(checks.NAMESPACES)
        if not timed("helm install the tracing-demo chart; every pod Ready",
                     lambda: _ready_after(install_demo, (NAMESPACE,)), results):
            return 1
        stack = checks.urls()
        e2e = "e2e suite through the gateway, traces from Tempo in the cluster"
        run_checks([
            ("trace-id routing: each trace on exactly one of the sampling pods, all complete in Tempo",
             lambda: checks.check_routing(stack)),
            ("response -> trace queryable in Tempo", lambda: checks.measure_trace_latency(stack, 5 if ci else 10)),
            *([] if ci else [(e2e, lambda: checks.check_e2e(stack))]),
            ("chaos on the cluster: pods deleted under load, N answered = N complete",
             lambda: checks.check_chaos(stack)),
        ], results)
        if ci:
            results.append((e2e, not_run("--ci, for CI's 40-minute budget: CI runs the suite natively and on compose; "
                                         "`make kube-check` runs it here")))
        results.append((f"pods: Ready, 0 restarts, memory peak <= {MEMORY_CEILING_PERCENT:.0f} % of the limit",
                        checks.pods_healthy(watch.close(), MEMORY_CEILING_PERCENT)))
        watch = None
        results += [(name, not_run(why)) for name, why in NOT_RUN_HERE]
    finally:
        if watch is not None:
            watch.close()
        if not keep:
            uninstall_all()
    return 0 if all(verdict or not verdict.ran for _, verdict in results) else 1

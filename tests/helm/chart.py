"""Render the Helm chart (deploy/helm/tracing-demo) as `helm template` does.

No cluster runs here, so every chart test works on what `helm template`
prints: parsed once per value set and Kubernetes version, shared by the tests.
Helm is built by tools/native/build.py (`build_helm`); without it every chart
test skips, saying so.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tools.native.settings import BIN, REPO

CHART = REPO / "deploy" / "helm" / "tracing-demo"
BACKENDS = REPO / "deploy" / "helm" / "backends"
RELEASE = "demo"
NAMESPACE = "demo"

# The oldest Kubernetes the chart declares (Chart.yaml kubeVersion) and the
# newest whose API schemas kubernetes-validate ships.
KUBE_VERSIONS = ("1.30.0", "1.37.0")


@dataclass(frozen=True)
class ValueSet:
    name: str
    file: Path | None  # None: the chart's own values.yaml only

    @property
    def args(self) -> list[str]:
        return ["-f", str(self.file)] if self.file else []


# Every value set the chart is rendered and validated with: the defaults and
# each file under ci/ (the chart-testing convention).
VALUE_SETS = [ValueSet("default", None)] + [
    ValueSet(path.name.removesuffix("-values.yaml"), path) for path in sorted((CHART / "ci").glob("*-values.yaml"))
]


def helm() -> str:
    built = BIN / "helm"
    if built.exists():
        return str(built)
    found = shutil.which("helm")
    if found:
        return found
    pytest.skip(f"helm is not available: {built.relative_to(REPO)} is missing and no helm is on PATH; "
                "`make test` builds it from the Go module proxy (build_helm; `make up` does not)")


def run_helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([helm(), *args], capture_output=True, text=True, cwd=REPO, timeout=120)


@functools.cache
def rendered_text(value_set: ValueSet, kube_version: str = KUBE_VERSIONS[-1]) -> str:
    result = run_helm("template", RELEASE, str(CHART), "--namespace", NAMESPACE,
                      "--kube-version", kube_version, *value_set.args)
    assert result.returncode == 0, f"helm template failed for {value_set.name}:\n{result.stderr}"
    return result.stdout


def manifests(value_set: ValueSet, kube_version: str = KUBE_VERSIONS[-1]) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(rendered_text(value_set, kube_version)) if doc]


def find(docs: list[dict], kind: str, name: str) -> dict:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def pod_templates(docs: list[dict]) -> list[tuple[str, dict]]:
    """(workload name, pod template) of every workload in a render."""
    workload_kinds = {"Deployment", "StatefulSet", "DaemonSet", "Job"}
    return [(d["metadata"]["name"], d["spec"]["template"]) for d in docs if d["kind"] in workload_kinds]


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged


def values(value_set: ValueSet) -> dict:
    """The values a render used: values.yaml with the value set's file over it."""
    base = yaml.safe_load((CHART / "values.yaml").read_text())
    return _merge(base, yaml.safe_load(value_set.file.read_text())) if value_set.file else base


def name(component: str) -> str:
    return f"{RELEASE}-{component}"

"""The chart passes `helm lint --strict`, renders for every value set, and every
rendered object is valid against the Kubernetes API schemas of both ends of the
supported range, strictly: an unknown or misplaced field is an error."""

from __future__ import annotations

import copy
import subprocess

import kubernetes_validate
import pytest

from tests.static.tools_on_path import venv_tool
from tools.native.settings import REPO

from .chart import BACKENDS, CHART, KUBE_VERSIONS, VALUE_SETS, ValueSet, manifests, run_helm

BY_NAME = {value_set.name: value_set for value_set in VALUE_SETS}


def test_the_value_sets_the_issue_asks_for_exist() -> None:
    assert {"default", "scaled-out", "external-tempo", "sampling-10"} <= set(BY_NAME)


@pytest.mark.parametrize("value_set", VALUE_SETS, ids=lambda v: v.name)
def test_helm_lint_strict(value_set: ValueSet) -> None:
    result = run_helm("lint", "--strict", str(CHART), "--kube-version", KUBE_VERSIONS[-1], *value_set.args)
    assert result.returncode == 0, result.stdout + result.stderr


def _validate(document: dict, kube_version: str) -> None:
    kubernetes_validate.validate(document, kube_version, strict=True)


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
@pytest.mark.parametrize("value_set", VALUE_SETS, ids=lambda v: v.name)
def test_every_object_is_valid_strictly(value_set: ValueSet, kube_version: str) -> None:
    docs = manifests(value_set, kube_version)
    assert docs, "helm template printed no objects"
    errors = []
    for doc in docs:
        try:
            _validate(doc, kube_version)
        except kubernetes_validate.ValidationError as error:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {error.message} at {list(error.path)}")
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("mutation", ["unknown field", "misplaced field"])
def test_the_validator_rejects_what_a_cluster_would(mutation: str) -> None:
    """The check above must be able to fail: a field the API does not know, or
    one put at the wrong level, is refused."""
    deployment = next(d for d in manifests(BY_NAME["default"]) if d["kind"] == "Deployment")
    broken = copy.deepcopy(deployment)
    container = broken["spec"]["template"]["spec"]["containers"][0]
    if mutation == "unknown field":
        container["readinessProbe"]["httpGet"]["pathh"] = "/health"
    else:
        broken["spec"]["template"]["spec"]["readOnlyRootFilesystem"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(broken, KUBE_VERSIONS[-1])


VALUES_FILES = sorted([CHART / "Chart.yaml", CHART / "values.yaml", *(CHART / "ci").glob("*.yaml"),
                       *BACKENDS.glob("*.yaml")])


@pytest.mark.parametrize("path", VALUES_FILES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_values_files_pass_yamllint(path) -> None:
    result = subprocess.run([venv_tool("yamllint"), "--config-file", str(REPO / ".yamllint"), "--format", "parsable",
                             str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# Values that must be refused before anything reaches a cluster
# (values.schema.json): a misspelt or retired key, a value out of range or of
# the wrong type. (flag, setting, what Helm says)
BAD_VALUES = [
    ("--set", "collector.sampling.baselinePercen=10", "additional properties 'baselinePercen' not allowed"),
    # The probabilistic sampler's setting before tail sampling: refused, not ignored.
    ("--set", "collector.samplingPercentage=10", "additional properties 'samplingPercentage' not allowed"),
    ("--set", "collector.sampling.baselinePercent=150", "maximum"),
    ("--set", "collector.sampling.baselinePercent=-1", "minimum"),
    ("--set", "collector.sampling.slowThresholdMs=0", "minimum"),
    ("--set", "collector.sampling.slowThresholdMs=1.5", "integer"),
    ("--set-string", "collector.sampling.decisionWait=5", "pattern"),
    ("--set-string", "collector.sampling.decisionWait=0s", "pattern"),
    ("--set-string", "collector.routing.resolverInterval=0s", "pattern"),
    ("--set", "services.service-b.replicas=-1", "minimum"),
    ("--set", "traceStore.otlpHttpEndpoint=tempo:4318", "pattern"),
    ("--set-string", "gateway.workerProcesses=auto", "integer"),
    ("--set-string", "serviceEnvironment.CONFORMANCE_ENDPOINT=true", "value must be one of 'on', 'off'"),
    ("--set", "serviceEnvironment.CONFORMANCE_ENDPOINT=null", "missing property 'CONFORMANCE_ENDPOINT'"),
    ("--set", "networkPolicy.enable=false", "additional properties 'enable' not allowed"),
    ("--set-string", "networkPolicy.enabled=no", "boolean"),
]


@pytest.mark.parametrize(("flag", "setting", "complaint"), BAD_VALUES, ids=[s for _, s, _ in BAD_VALUES])
def test_bad_values_are_refused(flag: str, setting: str, complaint: str) -> None:
    result = run_helm("template", "demo", str(CHART), "--kube-version", KUBE_VERSIONS[-1], flag, setting)
    assert result.returncode != 0 and complaint in result.stderr, result.stderr

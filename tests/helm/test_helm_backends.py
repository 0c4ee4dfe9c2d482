"""The values files for Grafana's charts (deploy/helm/backends/) fit together
and match compose: Grafana's data sources are compose's with other URLs, every
URL names a Service the other values files create, the log pipeline is
Promtail's stage for stage in Alloy's syntax, and no credential is written down.

The upstream charts are not in this repository, so these checks read the
values files; `make kube-check` installs them on a real cluster (docs/kubernetes.md)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import yaml

from tools.kube_check.install import INSTALL_LINE
from tools.native.settings import REPO

from .chart import BACKENDS, CHART, VALUE_SETS, manifests, name, pod_templates, values

COMPOSE_DATASOURCES = REPO / "observability" / "grafana" / "provisioning" / "datasources" / "datasources.yaml"
PROMTAIL = REPO / "observability" / "promtail" / "promtail.yaml"
TEMPO_CONFIG = REPO / "observability" / "tempo" / "tempo.yaml"
DOC = REPO / "docs" / "kubernetes.md"


def _load(file: str) -> dict:
    return yaml.safe_load((BACKENDS / file).read_text())


GRAFANA = _load("grafana.values.yaml")
TEMPO_CONFIG_VALUES = yaml.safe_load(TEMPO_CONFIG.read_text())
LOKI = _load("loki.values.yaml")
ALLOY_CONFIG = _load("alloy.values.yaml")["alloy"]["configMap"]["content"]

# values file -> (release, chart, namespace) it is installed as; the Service
# names below follow from the release names.
INSTALLS = {
    "tempo.values.yaml": ("tempo", "grafana/tempo", "tempo"),
    "loki.values.yaml": ("loki", "grafana/loki", "loki"),
    "alloy.values.yaml": ("alloy", "grafana/alloy", "alloy"),
    "grafana.values.yaml": ("grafana", "grafana/grafana", "grafana"),
}


def _datasources() -> dict[str, dict]:
    return {d["uid"]: d for d in GRAFANA["datasources"]["datasources.yaml"]["datasources"]}


def _compose_datasources() -> dict[str, dict]:
    return {d["uid"]: d for d in yaml.safe_load(COMPOSE_DATASOURCES.read_text())["datasources"]}


# ---------------------------------------------------------------- Grafana

def test_datasources_have_the_fixed_uids() -> None:
    assert set(_datasources()) == {"tempo", "loki", "prometheus"}


@pytest.mark.parametrize("uid", ["tempo", "loki", "prometheus"])
def test_datasource_is_composes_but_for_its_url(uid: str) -> None:
    """Same type, links (tracesToLogsV2, derivedFields, tracesToMetrics,
    serviceMap, exemplars) and escaping as compose; only where it is differs."""
    ours, compose = dict(_datasources()[uid]), dict(_compose_datasources()[uid])
    assert ours.pop("url") != compose.pop("url")
    assert ours == compose


def test_tempo_datasource_reads_the_tempo_service() -> None:
    url = urlsplit(_datasources()["tempo"]["url"])
    assert url.hostname == "tempo.tempo.svc.cluster.local"
    assert url.port == TEMPO_CONFIG_VALUES["server"]["http_listen_port"]


def test_loki_datasource_and_alloy_use_the_loki_service() -> None:
    url = _datasources()["loki"]["url"]
    assert (urlsplit(url).hostname, urlsplit(url).port) == ("loki.loki.svc.cluster.local", 3100)
    pushes = re.findall(r'url\s*=\s*"([^"]+)"', ALLOY_CONFIG)
    assert pushes == [f"{url}/loki/api/v1/push"]


def test_chart_sends_traces_to_the_tempo_service_by_default() -> None:
    default = next(v for v in VALUE_SETS if v.name == "default")
    endpoint = urlsplit(values(default)["traceStore"]["otlpHttpEndpoint"])
    assert (endpoint.scheme, endpoint.hostname) == ("http", "tempo.tempo.svc.cluster.local")
    otlp_http = TEMPO_CONFIG_VALUES["distributor"]["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    assert endpoint.port == int(otlp_http.rsplit(":", 1)[1])


def test_tempo_runs_composes_config() -> None:
    """The tempo chart gets observability/tempo/tempo.yaml whole (--set-file
    config=...), with environment expansion for its one Kubernetes difference."""
    line = INSTALL_LINE.search((BACKENDS / "tempo.values.yaml").read_text())
    assert "--set-file config=observability/tempo/tempo.yaml" in line["rest"]
    tempo = _load("tempo.values.yaml")["tempo"]
    assert tempo["extraArgs"] == {"config.expand-env": "true"}
    assert "${PROMETHEUS_REMOTE_WRITE_URL:-" in TEMPO_CONFIG.read_text()
    assert [e["name"] for e in tempo["extraEnv"]] == ["GOMEMLIMIT", "PROMETHEUS_REMOTE_WRITE_URL"]


# ---------------------------------------------------------------- logs

def _alloy_block(block: str) -> dict[str, str]:
    """`key = "value"` pairs of one Alloy stage's map (e.g. stage.json's expressions)."""
    match = re.search(re.escape(block) + r"\s*\{\s*\w+\s*=\s*\{(?P<body>.*?)\}", ALLOY_CONFIG, re.S)
    assert match, f"{block} not found in alloy.values.yaml"
    return dict(re.findall(r'(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"', match["body"]))


def _promtail_stages() -> dict[str, dict]:
    stages = yaml.safe_load(PROMTAIL.read_text())["scrape_configs"][0]["pipeline_stages"]
    return {key: value for stage in stages for key, value in stage.items()}


def test_alloy_parses_lines_as_promtail_does() -> None:
    assert _alloy_block("stage.json") == _promtail_stages()["json"]["expressions"]


@pytest.mark.parametrize("stage", ["labels", "structured_metadata"])
def test_alloy_labels_and_metadata_are_promtails(stage: str) -> None:
    assert set(_alloy_block(f"stage.{stage}")) == set(_promtail_stages()[stage])


def test_alloy_keeps_the_lines_timestamp() -> None:
    timestamp = _promtail_stages()["timestamp"]
    assert re.search(r'stage\.timestamp\s*\{\s*source\s*=\s*"%s"\s*format\s*=\s*"%s"' % (
        timestamp["source"], timestamp["format"]), ALLOY_CONFIG)


def test_alloy_selects_exactly_the_pods_that_write_the_log_schema() -> None:
    """Alloy keeps pods by the annotation the chart puts on the gateway and
    the services, and on nothing else (the Collector logs another format)."""
    default = next(v for v in VALUE_SETS if v.name == "default")
    annotation = values(default)["logSchemaAnnotation"]
    meta_label = "__meta_kubernetes_pod_annotation_" + re.sub(r"[^a-zA-Z0-9_]", "_", annotation)
    assert f'source_labels = ["{meta_label}"]' in ALLOY_CONFIG
    annotated = {w for w, t in pod_templates(manifests(default)) if annotation in t["metadata"].get("annotations", {})}
    assert annotated == {name(c) for c in ("gateway", "service-a", "service-b", "service-c")}


def test_alloy_names_services_as_compose_does() -> None:
    assert 'source_labels = ["__meta_kubernetes_pod_label_app_kubernetes_io_name"]' in ALLOY_CONFIG
    default = next(v for v in VALUE_SETS if v.name == "default")
    names = {t["metadata"]["labels"]["app.kubernetes.io/name"] for _, t in pod_templates(manifests(default))}
    assert {"gateway", "service-a", "service-b", "service-c"} <= names


# ---------------------------------------------------------------- versions, secrets

@pytest.mark.parametrize("file", sorted(INSTALLS))
def test_values_file_says_how_it_is_installed_and_the_doc_agrees(file: str) -> None:
    release, chart, namespace = INSTALLS[file]
    lines = [m for m in INSTALL_LINE.finditer((BACKENDS / file).read_text())]
    assert len(lines) == 1, f"{file}: one `helm install ... --version` line"
    line = lines[0]
    assert (line["release"], line["chart"]) == (release, chart)
    assert f"--namespace {namespace}" in line["rest"] and f"-f deploy/helm/backends/{file}" in line["rest"]
    assert f"helm install {release} {chart} --version {line['version']}" in DOC.read_text(), (
        f"docs/kubernetes.md must show {chart} at {line['version']}")


SECRET_KEY = re.compile(r"(password|secret|access_?key|rootuser)", re.I)


def _secret_values(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            if SECRET_KEY.search(str(key)) and not isinstance(value, (dict, list)):
                yield f"{path}.{key}", value
            yield from _secret_values(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _secret_values(item, f"{path}[{index}]")


@pytest.mark.parametrize("file", sorted(INSTALLS))
def test_no_credential_is_written_in_a_values_file(file: str) -> None:
    """Credentials come from a Secret the user creates; a values file names
    them only as environment references, ${NAME}."""
    for path, value in _secret_values(_load(file)):
        if isinstance(value, str) and re.fullmatch(r"\$\{\w+\}", value):
            continue
        assert value is None or path.endswith(("existingSecret", "Secret")), f"{file}: {path} = {value!r}"


def test_chart_values_hold_no_credentials() -> None:
    assert not [p for p, v in _secret_values(yaml.safe_load((CHART / "values.yaml").read_text())) if v]

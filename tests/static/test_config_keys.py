"""Every key no validator here can check (Grafana's provisioning, dashboards and
settings; Promtail's pipeline stages; the metric and label names in PromQL) is
one confirmed in the component's documentation (tests/static/allowed_config_keys.yaml),
and docs/config-keys.md describes each of them. The other configs are checked
by their own image's validator: tools/compose_check/validators.py."""

from __future__ import annotations

import re

import pytest

from .key_paths import leaf_paths, matches, unlisted
from .query_names import promql_labels, promql_metrics
from .repo_files import (
    ALLOWLIST,
    COMPOSE,
    CONFIG_KEYS_DOC,
    DATASOURCES_FILE,
    REPO,
    dashboard_files,
    dashboard_queries,
    load,
    relative,
)

FILES = ALLOWLIST["files"]
GRAFANA_ENVIRONMENT = ALLOWLIST["grafana_environment"]
PROMETHEUS_METRICS = ALLOWLIST["prometheus_metrics"]
PROMETHEUS_LABELS = ALLOWLIST["prometheus_labels"]
# Files of which only a part is listed, because a validator reads the rest
# (promtail -check-syntax: all but the stages, see the allowlist).
ONLY_UNDER = {"observability/promtail/promtail.yaml": "scrape_configs[].pipeline_stages[]."}


def _allowlisted_files():
    return sorted(FILES)


def _files_matching(pattern):
    """An allowlist entry names one file, or a glob for several sharing keys."""
    paths = sorted(REPO.glob(pattern))
    assert paths, f"allowlist entry {pattern} matches no file"
    return paths


def _used_paths(pattern):
    return {path for file in _files_matching(pattern) for path in leaf_paths(load(file))}


def _every_source():
    entries = [(f"{file}: {key}", url) for file, keys in FILES.items() for key, url in keys.items()]
    entries += [(name, entry["source"]) for name, entry in GRAFANA_ENVIRONMENT.items()]
    entries += [(name, url) for name, url in {**PROMETHEUS_METRICS, **PROMETHEUS_LABELS}.items()]
    return entries


@pytest.mark.parametrize(
    ("entry", "config"),
    [(entry, relative(path)) for entry in _allowlisted_files() for path in _files_matching(entry)],
)
def test_config_uses_only_documented_keys(entry, config):
    paths = [path for path in leaf_paths(load(REPO / config)) if path.startswith(ONLY_UNDER.get(entry, ""))]
    unknown = unlisted(paths, list(FILES[entry]))
    assert unknown == [], f"{config}: keys not confirmed in the docs: {unknown}"


@pytest.mark.parametrize("config", _allowlisted_files())
def test_allowlist_has_no_stale_entries(config):
    """An entry nobody uses would document a key the config does not have."""
    used = _used_paths(config)
    stale = [pattern for pattern in FILES[config] if not any(matches(pattern, path) for path in used)]
    assert stale == [], f"{config}: allowlisted but unused: {stale}"


def test_every_dashboard_file_is_covered():
    covered = {relative(path) for entry in FILES for path in _files_matching(entry)}
    assert {relative(path) for path in dashboard_files()} <= covered


@pytest.mark.parametrize("variable", sorted(COMPOSE["services"]["grafana"]["environment"]))
def test_grafana_setting_is_documented(variable):
    assert variable in GRAFANA_ENVIRONMENT, f"{variable} is not a confirmed Grafana setting"
    section, _, key = GRAFANA_ENVIRONMENT[variable]["setting"].rpartition(".")
    assert variable == f"GF_{section}_{key}".upper().replace(".", "_")


@pytest.mark.parametrize(("entry", "url"), _every_source())
def test_source_is_a_public_https_document(entry, url):
    assert isinstance(url, str) and url.startswith("https://"), f"{entry}: source {url!r}"


def _promql_expressions():
    exprs = []
    datasources = load(DATASOURCES_FILE)["datasources"]
    for source in datasources:
        for query in source.get("jsonData", {}).get("tracesToMetrics", {}).get("queries", []):
            exprs.append((relative(DATASOURCES_FILE), query["query"]))
    return exprs + dashboard_queries("prometheus")


@pytest.mark.parametrize(("where", "expr"), _promql_expressions())
def test_promql_uses_only_metrics_tempo_generates(where, expr):
    unknown = sorted(promql_metrics(expr) - set(PROMETHEUS_METRICS))
    assert unknown == [], f"{where}: unknown metric names {unknown} in {expr}"


@pytest.mark.parametrize(("where", "expr"), _promql_expressions())
def test_promql_uses_only_labels_tempo_generates(where, expr):
    unknown = sorted(promql_labels(expr) - set(PROMETHEUS_LABELS))
    assert unknown == [], f"{where}: unknown label names {unknown} in {expr}"


def _documented_names():
    return sorted(
        {key for keys in FILES.values() for key in keys}
        | set(GRAFANA_ENVIRONMENT)
        | set(PROMETHEUS_METRICS)
        | set(PROMETHEUS_LABELS)
    )


@pytest.mark.parametrize("name", _documented_names())
def test_config_keys_doc_describes_the_name(name):
    doc = CONFIG_KEYS_DOC.read_text()
    assert f"`{name}`" in doc, f"docs/config-keys.md does not mention `{name}`"


def test_config_keys_doc_cites_every_source():
    doc = CONFIG_KEYS_DOC.read_text()
    missing = sorted({url for _, url in _every_source()} - set(re.findall(r"https://\S+?(?=[)\s>]|$)", doc)))
    assert missing == [], f"docs/config-keys.md does not cite: {missing}"

"""Grafana provisioning: data sources reference each other only by uids that
exist, every dashboard panel queries a provisioned data source with a real
query, only panel types that ship with Grafana are used, and every literal `$`
in provisioning YAML is escaped (Grafana expands environment variables there)."""

from __future__ import annotations

import re

import pytest

from .repo_files import (
    COMPOSE,
    DASHBOARD_PROVIDERS_FILE,
    DATASOURCES_FILE,
    dashboard_files,
    load,
    relative,
)

DATASOURCES = load(DATASOURCES_FILE)["datasources"]
TYPE_BY_UID = {source["uid"]: source["type"] for source in DATASOURCES}

# Visualizations built into Grafana, so nothing is downloaded at start-up.
# https://grafana.com/docs/grafana/latest/panels-visualizations/visualizations/
CORE_PANEL_TYPES = {
    "timeseries", "table", "logs", "nodeGraph", "heatmap", "stat", "bargauge", "barchart", "traces",
}

# Which target field holds the query, per data source type.
QUERY_FIELD = {"prometheus": "expr", "loki": "expr", "tempo": "query"}
# A Tempo service-map target has no query text: the data source builds the
# PromQL itself from the serviceMap data source configured in datasources.yaml.
QUERY_FREE_TEMPO_TYPES = {"serviceMap"}


def _references(node, path=""):
    """Every datasourceUid value anywhere in a document, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasourceUid":
                yield f"{path}.{key}", value
            else:
                yield from _references(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _references(item, f"{path}[{index}]")


def _panels():
    return [
        pytest.param(panel, id=f"{relative(path)}:{panel['title']}")
        for path in dashboard_files()
        for panel in load(path)["panels"]
    ]


def _targets():
    return [
        pytest.param(target, id=f"{relative(path)}:{panel['title']}:{target['refId']}")
        for path in dashboard_files()
        for panel in load(path)["panels"]
        for target in panel["targets"]
    ]


def test_datasource_uids_are_the_fixed_ones():
    assert set(TYPE_BY_UID) == {"tempo", "loki", "prometheus"}
    assert all(uid == kind for uid, kind in TYPE_BY_UID.items())


@pytest.mark.parametrize(("where", "uid"), list(_references(DATASOURCES)))
def test_datasource_link_points_at_a_provisioned_uid(where, uid):
    assert uid in TYPE_BY_UID, f"{where}: {uid!r} is not a provisioned data source uid"


def assert_provisioned(reference: dict) -> None:
    """A {"type", "uid"} data source reference names a provisioned data source."""
    assert TYPE_BY_UID.get(reference["uid"]) == reference["type"], f"unknown data source {reference}"


@pytest.mark.parametrize("panel", _panels())
def test_panel_targets_a_provisioned_datasource(panel):
    assert_provisioned(panel["datasource"])


@pytest.mark.parametrize("panel", _panels())
def test_panel_type_ships_with_grafana(panel):
    assert panel["type"] in CORE_PANEL_TYPES


@pytest.mark.parametrize("panel", _panels())
def test_panel_has_a_target(panel):
    assert panel["targets"], "a panel without a query shows nothing"


@pytest.mark.parametrize("target", _targets())
def test_target_queries_a_provisioned_datasource(target):
    assert_provisioned(target["datasource"])


@pytest.mark.parametrize("target", _targets())
def test_target_has_a_non_empty_query(target):
    kind = target["datasource"]["type"]
    if kind == "tempo" and target.get("queryType") in QUERY_FREE_TEMPO_TYPES:
        return
    assert str(target.get(QUERY_FIELD[kind], "")).strip(), f"empty {QUERY_FIELD[kind]}"


@pytest.mark.parametrize("path", dashboard_files(), ids=relative)
def test_dashboard_has_a_unique_uid_and_panel_ids(path):
    dashboard = load(path)
    uids = [load(other)["uid"] for other in dashboard_files()]
    assert uids.count(dashboard["uid"]) == 1
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_home_dashboard_is_a_provisioned_file():
    home = COMPOSE["services"]["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    provider_path = load(DASHBOARD_PROVIDERS_FILE)["providers"][0]["options"]["path"]
    assert home.startswith(provider_path + "/")
    assert home.rpartition("/")[2] in {path.name for path in dashboard_files()}


@pytest.mark.parametrize("path", [DATASOURCES_FILE, DASHBOARD_PROVIDERS_FILE], ids=relative)
def test_every_dollar_in_provisioning_is_escaped(path):
    # Strip comments, then every `$$`; any `$` left would be expanded by Grafana.
    lines = [line.split(" #")[0] for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]
    text = "\n".join(lines)
    unescaped = [m.start() for m in re.finditer(r"\$", text.replace("$$", ""))]
    assert unescaped == [], f"{relative(path)}: unescaped $ (write $$)"

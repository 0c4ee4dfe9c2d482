"""tools/compose_check/panels.py: every dashboard target becomes the /api/ds/query
request Grafana's backend runs for that panel."""

from __future__ import annotations

import json

import pytest

from tools.compose_check import checks as run
from tools.compose_check import panels

QUERIES = panels.panel_queries(run.DASHBOARDS, run.DATASOURCES_FILE)


def test_every_target_of_every_dashboard_is_checked():
    targets = [(path.name, panel["title"], target["refId"])
               for path in run.DASHBOARDS for panel in json.loads(path.read_text())["panels"]
               for target in panel["targets"]]
    assert [(q.dashboard, q.panel, q.ref_id) for q in QUERIES] == targets


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.label)
def test_request_names_a_provisioned_data_source_and_carries_a_query(query):
    assert query.query["datasource"]["uid"] in run.datasource_uids()
    assert query.query.get("expr") or query.query.get("query")


@pytest.mark.parametrize("query", [q for q in QUERIES if q.query["datasource"]["type"] == "prometheus"],
                         ids=lambda q: q.label)
def test_prometheus_request_is_either_range_or_instant(query):
    assert query.query["range"] != query.query["instant"]


def test_service_map_is_checked_through_its_metrics_source():
    target = {"refId": "A", "datasource": {"type": "tempo", "uid": "tempo"}, "queryType": "serviceMap"}
    request = panels.as_request(target, {"type": "prometheus", "uid": "prometheus"})
    assert request["datasource"] == {"type": "prometheus", "uid": "prometheus"}
    assert "traces_service_graph_request_total" in request["expr"]


def test_service_map_source_comes_from_the_tempo_data_source():
    assert panels.service_map_datasource(run.DATASOURCES_FILE) == {"type": "prometheus", "uid": "prometheus"}


def test_tempo_traceql_target_keeps_its_query_fields():
    target = {"refId": "A", "datasource": {"type": "tempo", "uid": "tempo"}, "queryType": "traceql",
              "query": "{} | rate()", "limit": 20, "legendFormat": "x"}
    request = panels.as_request(target, {})
    assert request["query"] == "{} | rate()" and request["queryType"] == "traceql" and request["limit"] == 20
    assert "legendFormat" not in request


def test_body_has_a_time_range():
    body = panels.ds_query_body(QUERIES[0])
    assert body["from"] == "now-1h" and body["to"] == "now" and body["queries"] == [QUERIES[0].query]

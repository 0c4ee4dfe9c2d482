"""Every dashboard panel target as a Grafana /api/ds/query request.

Grafana runs these queries in its backend exactly as a panel does; the panel
shows data when the answer's frames have rows (responses.frames_have_data).
A Tempo service-map target has no query of its own: Grafana's Tempo data
source builds it from the service-graph metrics in the data source named by
jsonData.serviceMap.datasourceUid, so it is checked as that PromQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

# The metric Grafana's service map reads (Tempo docs, "Service graph view").
SERVICE_MAP_QUERY = "sum by (client, server) (rate(traces_service_graph_request_total[5m]))"
INTERVAL_MS = 15_000
MAX_DATA_POINTS = 200

# Target fields each data source type reads; everything else (legendFormat, ...) is presentation.
QUERY_FIELDS = {
    "prometheus": ("expr", "instant", "format"),
    "loki": ("expr", "queryType"),
    "tempo": ("query", "queryType", "limit", "tableType"),
}


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    panel: str
    ref_id: str
    query: dict  # one entry of /api/ds/query "queries"

    @property
    def label(self) -> str:
        return f"{self.dashboard}: {self.panel} [{self.ref_id}]"


def service_map_datasource(datasources_file: Path) -> dict:
    sources = yaml.safe_load(datasources_file.read_text())["datasources"]
    tempo = next(source for source in sources if source["type"] == "tempo")
    uid = tempo["jsonData"]["serviceMap"]["datasourceUid"]
    target = next(source for source in sources if source["uid"] == uid)
    return {"type": target["type"], "uid": uid}


def as_request(target: dict, service_map_source: dict) -> dict:
    source = target["datasource"]
    base = {"refId": target["refId"], "intervalMs": INTERVAL_MS, "maxDataPoints": MAX_DATA_POINTS}
    if source["type"] == "tempo" and target.get("queryType") == "serviceMap":
        return base | {"datasource": service_map_source, "expr": SERVICE_MAP_QUERY, "instant": True, "range": False}
    query = base | {"datasource": source} | {k: target[k] for k in QUERY_FIELDS[source["type"]] if k in target}
    if source["type"] == "prometheus":
        query["range"] = not target.get("instant", False)
        query["instant"] = bool(target.get("instant", False))
    return query


def panel_queries(dashboard_files: list[Path], datasources_file: Path) -> list[PanelQuery]:
    service_map_source = service_map_datasource(datasources_file)
    queries = []
    for path in dashboard_files:
        dashboard = yaml.safe_load(path.read_text())
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                queries.append(PanelQuery(path.name, panel["title"], target["refId"],
                                          as_request(target, service_map_source)))
    return queries


def ds_query_body(query: PanelQuery, time_from: str = "now-1h", time_to: str = "now") -> dict:
    return {"queries": [query.query], "from": time_from, "to": time_to}

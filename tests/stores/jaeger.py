"""Jaeger v2 query API client (the native mode's trace store).

Checked against the jaeger v1.76.0 sources (cmd/query/app):
- GET /api/v3/traces/{hex id} answers {"result": <OTLP JSON>} with hex ids and
  numeric enums, or 404 when the trace is unknown.
- The v3 search (GET /api/v3/traces?query.*) ignores attributes in that
  version, so searching by app.x_trace_id uses the UI's API instead:
  GET /api/traces?service=&tags={json}&start=&end= (times in microseconds),
  which needs a service name and answers {"data": [{"traceID": ...}]} with
  leading zeros of the id dropped.
"""

from __future__ import annotations

import json
import time

from .base import X_TRACE_ID_ATTRIBUTE, HttpStoreClient, full_trace_id
from .model import Trace
from .otlp_json import hex_id, spans_from_resource_spans

SEARCH_LIMIT = 20


class JaegerStore(HttpStoreClient):
    store_name = "Jaeger"

    def get_trace(self, otel_trace_id: str) -> Trace | None:
        # raw_traces skips the query service's adjusters (clock-skew correction
        # among them): the tests judge span timing as the services reported it.
        response = self._get(f"/api/v3/traces/{otel_trace_id}", {"raw_traces": "true"})
        if response.status_code == 404:
            return None
        result = self._json(response).get("result") or {}
        spans = spans_from_resource_spans(result.get("resourceSpans") or [], hex_id)
        return Trace(otel_trace_id, tuple(spans)) if spans else None

    def raw_trace(self, otel_trace_id: str) -> str:
        return self._get(f"/api/v3/traces/{otel_trace_id}", {"raw_traces": "true"}).text

    def services(self) -> list[str]:
        return self._json(self._get("/api/v3/services")).get("services") or []

    def find_traces_by_x_trace_id(self, x_trace_id: str, since: float) -> list[str]:
        found = set()
        # The UI API searches one service at a time; X-Trace-ID is on every
        # service's server span, so a trace shows up under each service it crossed.
        for service in self.services():
            body = self._json(self._get("/api/traces", {
                "service": service,
                "tags": json.dumps({X_TRACE_ID_ATTRIBUTE: x_trace_id}),
                "start": str(int(since * 1_000_000)),
                "end": str(int((time.time() + 60) * 1_000_000)),
                "limit": str(SEARCH_LIMIT),
            }))
            found.update(full_trace_id(trace["traceID"]) for trace in body.get("data") or [])
        return sorted(found)

    def trace_link(self, otel_trace_id: str) -> str:
        return f"{self.base_url}/trace/{otel_trace_id}"

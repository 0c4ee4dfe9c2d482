"""Grafana Tempo 2.9 HTTP API client (the compose mode's trace store).

From Tempo's API docs (docs/sources/tempo/api_docs):
- GET /api/v2/traces/<hex id> answers {"trace": {"resourceSpans": [...]}}: OTLP
  JSON, but ids are base64 of the raw bytes, enums are names
  (SPAN_KIND_SERVER, STATUS_CODE_ERROR) and uint64 times are strings. An
  unknown trace comes back as 404 or as 200 without resourceSpans.
- GET /api/search?q=<TraceQL>&start=&end=&limit= (times in unix seconds)
  answers {"traces": [{"traceID": ...}]}, the id in hex with leading zeros
  dropped. Search sees a trace only once the ingester has flushed it, some
  seconds after trace-by-id does: callers poll.
"""

from __future__ import annotations

import time

from .base import X_TRACE_ID_ATTRIBUTE, HttpStoreClient, full_trace_id
from .model import Trace
from .otlp_json import base64_id, spans_from_resource_spans

SEARCH_LIMIT = 20


def traceql_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


class TempoStore(HttpStoreClient):
    store_name = "Tempo"

    def get_trace(self, otel_trace_id: str) -> Trace | None:
        response = self._get(f"/api/v2/traces/{otel_trace_id}")
        if response.status_code == 404:
            return None
        trace = self._json(response).get("trace") or {}
        spans = spans_from_resource_spans(trace.get("resourceSpans") or [], base64_id)
        return Trace(otel_trace_id, tuple(spans)) if spans else None

    def raw_trace(self, otel_trace_id: str) -> str:
        return self._get(f"/api/v2/traces/{otel_trace_id}").text

    def find_traces_by_x_trace_id(self, x_trace_id: str, since: float) -> list[str]:
        body = self._json(self._get("/api/search", {
            "q": f"{{ span.{X_TRACE_ID_ATTRIBUTE} = {traceql_string(x_trace_id)} }}",
            "start": str(int(since)),
            "end": str(int(time.time()) + 60),
            "limit": str(SEARCH_LIMIT),
        }))
        return sorted({full_trace_id(trace["traceID"]) for trace in body.get("traces") or []})

    def trace_link(self, otel_trace_id: str) -> str:
        return f"{self.base_url}/api/v2/traces/{otel_trace_id}"

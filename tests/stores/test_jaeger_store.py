"""JaegerStore against responses in the Jaeger v2 (v1.76.0) query API format."""

from __future__ import annotations

import json

import pytest

from tests.stores.base import StoreError
from tests.stores.jaeger import JaegerStore

TRACE_ID = "0000a1b2c3d4e5f60718293a4b5c6d7e"
X_TRACE_ID = "trace-20261125T004012Z-1a2b3c4d"


def test_get_trace_reads_hex_ids_and_numeric_enums(fake_store):
    fake_store.answer(f"/api/v3/traces/{TRACE_ID}", 200, "jaeger_get_trace.json")
    trace = JaegerStore(fake_store.server.url).get_trace(TRACE_ID)

    assert trace is not None
    by_id = {span.span_id: span for span in trace.spans}
    assert {span.trace_id for span in trace.spans} == {TRACE_ID}
    assert [(by_id[i].service, by_id[i].kind, by_id[i].status, by_id[i].parent_span_id) for i in sorted(by_id)] == [
        ("service-a", "SERVER", "ERROR", ""),
        ("service-a", "INTERNAL", "UNSET", "1111111111111111"),
        ("service-a", "CLIENT", "ERROR", "2222222222222222"),
        ("service-b", "SERVER", "ERROR", "3333333333333333"),
    ]
    assert by_id["1111111111111111"].attributes["http.response.status_code"] == 502
    assert [e.name for e in by_id["4444444444444444"].events] == ["exception"]
    # Adjusters (clock skew among them) are skipped: timing as reported.
    [request] = fake_store.requests_to(f"/api/v3/traces/{TRACE_ID}")
    assert request.query["raw_traces"] == ["true"]


def test_same_trace_from_both_stores_normalizes_identically(fake_store):
    """The Jaeger and Tempo fixtures encode one trace two ways."""
    from tests.stores.tempo import TempoStore
    fake_store.answer(f"/api/v3/traces/{TRACE_ID}", 200, "jaeger_get_trace.json")
    fake_store.answer(f"/api/v2/traces/{TRACE_ID}", 200, "tempo_trace_by_id.json")
    jaeger = JaegerStore(fake_store.server.url).get_trace(TRACE_ID)
    tempo = TempoStore(fake_store.server.url).get_trace(TRACE_ID)
    assert jaeger == tempo


def test_get_trace_unknown_is_none(fake_store):
    fake_store.answer(f"/api/v3/traces/{TRACE_ID}", 404, "jaeger_trace_not_found.json")
    assert JaegerStore(fake_store.server.url).get_trace(TRACE_ID) is None


def test_get_trace_server_error_raises(fake_store):
    fake_store.answer(f"/api/v3/traces/{TRACE_ID}", 500, "jaeger_trace_not_found.json")
    with pytest.raises(StoreError):
        JaegerStore(fake_store.server.url).get_trace(TRACE_ID)


def test_search_asks_every_service_by_tag_and_merges(fake_store):
    fake_store.answer("/api/v3/services", 200, "jaeger_services.json")
    fake_store.answer("/api/traces", 200, "jaeger_search_service_a.json", service="service-a")
    fake_store.answer("/api/traces", 200, "jaeger_search_service_b.json", service="service-b")
    fake_store.answer("/api/traces", 200, "jaeger_search_empty.json", service="service-c")

    found = JaegerStore(fake_store.server.url).find_traces_by_x_trace_id(X_TRACE_ID, since=1795480800.25)

    assert found == [TRACE_ID]  # leading zeros restored, duplicates merged
    searches = fake_store.requests_to("/api/traces")
    assert sorted(r.query["service"][0] for r in searches) == ["service-a", "service-b", "service-c"]
    for request in searches:
        assert json.loads(request.query["tags"][0]) == {"app.x_trace_id": X_TRACE_ID}
        assert request.query["start"] == ["1795480800250000"]  # microseconds
        assert int(request.query["end"][0]) > 1795480800250000


def test_search_without_hits_is_empty(fake_store):
    fake_store.answer("/api/v3/services", 200, "jaeger_services.json")
    fake_store.answer("/api/traces", 200, "jaeger_search_empty.json")
    assert JaegerStore(fake_store.server.url).find_traces_by_x_trace_id(X_TRACE_ID, since=0) == []

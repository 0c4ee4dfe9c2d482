"""TempoStore against responses in Tempo's documented format (no stack needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.stores.base import StoreError
from tests.stores.model import Event
from tests.stores.tempo import TempoStore, traceql_string

TRACE_ID = "0000a1b2c3d4e5f60718293a4b5c6d7e"
X_TRACE_ID = "trace-20261125T004012Z-1a2b3c4d"


def test_trace_by_id_decodes_base64_ids_enum_names_and_string_numbers(fake_store):
    fake_store.answer(f"/api/v2/traces/{TRACE_ID}", 200, "tempo_trace_by_id.json")
    trace = TempoStore(fake_store.server.url).get_trace(TRACE_ID)

    assert trace is not None and trace.trace_id == TRACE_ID
    assert {span.trace_id for span in trace.spans} == {TRACE_ID}
    by_id = {span.span_id: span for span in trace.spans}
    assert set(by_id) == {"1111111111111111", "2222222222222222", "3333333333333333", "4444444444444444"}

    root = by_id["1111111111111111"]
    assert (root.service, root.kind, root.status, root.parent_span_id) == ("service-a", "SERVER", "ERROR", "")
    assert root.name == "GET /api/demo/parallel"
    assert root.attributes["http.response.status_code"] == 502
    assert root.attributes["app.x_trace_id"] == X_TRACE_ID
    assert root.end_ns - root.start_ns == 40_000_000
    assert root.events_named("exception") == [
        Event("exception", {"exception.type": "DownstreamError", "exception.message": "service-b answered 508"})
    ]

    internal = by_id["2222222222222222"]
    assert (internal.kind, internal.status, internal.parent_span_id) == ("INTERNAL", "UNSET", "1111111111111111")
    client = by_id["3333333333333333"]
    assert (client.kind, client.parent_span_id) == ("CLIENT", "2222222222222222")
    assert client.attributes["server.port"] == 8082
    server_b = by_id["4444444444444444"]
    assert (server_b.service, server_b.parent_span_id) == ("service-b", "3333333333333333")
    assert server_b.attributes["app.ratio"] == 0.5
    assert server_b.attributes["app.retried"] is False


@pytest.mark.parametrize("status, fixture", [(404, "jaeger_trace_not_found.json"), (200, "tempo_trace_by_id_empty.json")],
                         ids=["404", "200-without-resourceSpans"])
def test_trace_by_id_unknown_trace_is_none(fake_store, status, fixture):
    fake_store.answer(f"/api/v2/traces/{TRACE_ID}", status, fixture)
    assert TempoStore(fake_store.server.url).get_trace(TRACE_ID) is None


def test_trace_by_id_other_errors_raise(fake_store):
    fake_store.answer(f"/api/v2/traces/{TRACE_ID}", 500, "tempo_trace_by_id_empty.json")
    with pytest.raises(StoreError, match="500"):
        TempoStore(fake_store.server.url).get_trace(TRACE_ID)


def test_search_sends_traceql_and_restores_leading_zeros(fake_store):
    fake_store.answer("/api/search", 200, "tempo_search.json")
    found = TempoStore(fake_store.server.url).find_traces_by_x_trace_id(X_TRACE_ID, since=1795480800.7)

    assert found == sorted([TRACE_ID, "5b8efff798038103d269b633813fc60c"])
    [request] = fake_store.requests_to("/api/search")
    assert request.query["q"] == [f'{{ span.app.x_trace_id = "{X_TRACE_ID}" }}']
    assert request.query["start"] == ["1795480800"]
    assert int(request.query["end"][0]) > 1795480800


def test_search_fixture_really_strips_leading_zeros():
    """Guards the test above: it proves something only if the fixture id is short."""
    fixture = Path(__file__).parent / "fixtures" / "tempo_search.json"
    ids = [t["traceID"] for t in json.loads(fixture.read_text())["traces"]]
    assert TRACE_ID.lstrip("0") in ids and len(TRACE_ID.lstrip("0")) < 32


@pytest.mark.parametrize("value, quoted", [
    ("trace-1", '"trace-1"'),
    ('a"b', '"a\\"b"'),
    ("a\\b", '"a\\\\b"'),
])
def test_traceql_string_escapes(value, quoted):
    assert traceql_string(value) == quoted

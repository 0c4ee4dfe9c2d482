"""tools/compose_check/responses.py on recorded answers in each API's documented format."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tools.compose_check import responses

FIXTURES = Path(__file__).with_name("fixtures")
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PROCESSES = {"gateway", "service-a", "service-b", "service-c"}


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def test_loki_lines_are_counted_per_service():
    counts = responses.loki_lines_per_service(fixture("loki_query_range_streams.json"), TRACE_ID)
    assert counts == {"gateway": 1, "service-a": 2, "service-b": 1, "service-c": 1}


def test_loki_answer_with_every_process_passes():
    verdict = responses.loki_has_every_process(fixture("loki_query_range_streams.json"), TRACE_ID, PROCESSES)
    assert verdict.ok, verdict.detail


def test_loki_answer_missing_a_process_names_it():
    answer = fixture("loki_query_range_streams.json")
    answer["data"]["result"] = [s for s in answer["data"]["result"] if s["stream"]["service"] != "service-c"]
    verdict = responses.loki_has_every_process(answer, TRACE_ID, PROCESSES)
    assert not verdict.ok and "service-c" in verdict.detail


def test_loki_lines_of_another_trace_do_not_count():
    verdict = responses.loki_has_every_process(fixture("loki_query_range_streams.json"), "0" * 31 + "1", PROCESSES)
    assert not verdict.ok


@pytest.mark.parametrize("answer", [{"status": "error"}, {"status": "success", "data": {"resultType": "matrix", "result": []}}])
def test_loki_answer_of_another_kind_is_an_error(answer):
    with pytest.raises(ValueError):
        responses.loki_lines_per_service(answer, TRACE_ID)


def test_service_graph_naming_the_three_services_passes():
    verdict = responses.service_graph_covers(fixture("prometheus_query_service_graph.json"), {"service-a", "service-b", "service-c"})
    assert verdict.ok and "service-a->service-b" in verdict.detail


def test_service_graph_without_a_service_names_the_missing_one():
    answer = fixture("prometheus_query_service_graph.json")
    answer["data"]["result"] = [s for s in answer["data"]["result"] if s["metric"]["server"] != "service-c"]
    verdict = responses.service_graph_covers(answer, {"service-a", "service-b", "service-c"})
    assert not verdict.ok and "service-c" in verdict.detail


def test_empty_service_graph_fails():
    answer = {"status": "success", "data": {"resultType": "vector", "result": []}}
    assert not responses.service_graph_covers(answer, {"service-a"})


def test_tempo_metrics_with_samples_passes():
    assert responses.tempo_metrics_has_series(fixture("tempo_metrics_query_range.json")).ok


def test_tempo_metrics_without_samples_fails():
    answer = fixture("tempo_metrics_query_range.json")
    answer["series"][0]["samples"] = []
    assert not responses.tempo_metrics_has_series(answer)
    assert not responses.tempo_metrics_has_series({"series": [], "metrics": {}})


@pytest.mark.parametrize(("status", "name", "ok"), [
    (200, "grafana_datasource_health_ok.json", True),
    (400, "grafana_datasource_health_error.json", False),
    (200, "grafana_datasource_health_error.json", False),
])
def test_datasource_health(status, name, ok):
    verdict = responses.datasource_health(status, fixture(name))
    assert verdict.ok is ok and fixture(name)["message"] in verdict.detail


@pytest.mark.parametrize(("name", "ok", "detail"), [
    ("grafana_ds_query_frames.json", True, "up to 2 row(s)"),
    ("grafana_ds_query_empty.json", False, "up to 0 row(s)"),
    ("grafana_ds_query_error.json", False, "localblocks processor not found"),
])
def test_panel_frames(name, ok, detail):
    verdict = responses.frames_have_data(fixture(name), "A")
    assert verdict.ok is ok and detail in verdict.detail


def test_panel_frames_of_another_ref_id_do_not_count():
    assert not responses.frames_have_data(fixture("grafana_ds_query_frames.json"), "B")


def test_grafana_error_lines_are_the_level_error_ones():
    errors = responses.grafana_error_lines((FIXTURES / "grafana.log").read_text())
    assert len(errors) == 1 and "grafana-exploretraces-app" in errors[0]


def test_fixtures_are_not_changed_by_the_parsers():
    answer = fixture("loki_query_range_streams.json")
    before = copy.deepcopy(answer)
    responses.loki_lines_per_service(answer, TRACE_ID)
    assert answer == before

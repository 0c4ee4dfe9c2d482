"""The pure parts of the benchmark report (benchmarks/report_text.py and the
command line of benchmarks/report.py): summaries, tables, the Collector's
counters. No stack, no timing."""

from __future__ import annotations

import math

import pytest

from benchmarks.report import STAGES, parse_args
from benchmarks.report_text import (Distribution, collector_counters, counter_deltas, duration, markdown_table,
                                    number)

# values -> (count, p50, p95, p99, max): nearest rank, always a value that occurred
DISTRIBUTIONS = [
    ([5.0], (1, 5.0, 5.0, 5.0, 5.0)),
    ([3.0, 1.0, 2.0], (3, 2.0, 3.0, 3.0, 3.0)),
    ([float(n) for n in range(1, 101)], (100, 50.0, 95.0, 99.0, 100.0)),
    ([float(n) for n in range(1, 201)], (200, 100.0, 190.0, 198.0, 200.0)),
    ([10.0] * 99 + [1000.0], (100, 10.0, 10.0, 10.0, 1000.0)),
]


@pytest.mark.parametrize("values, expected", DISTRIBUTIONS)
def test_distribution(values, expected):
    d = Distribution.of(values)
    assert (d.count, d.p50, d.p95, d.p99, d.max) == expected


def test_distribution_of_nothing_is_not_a_number():
    d = Distribution.of([])
    assert d.count == 0 and all(math.isnan(v) for v in (d.p50, d.p95, d.p99, d.max))


# value, digits -> cell
NUMBERS = [(1.234, 1, "1.2"), (1.236, 2, "1.24"), (7, 1, "7"), (None, 1, "–"), (float("nan"), 2, "–"),
           (1000.0, 0, "1000")]


@pytest.mark.parametrize("value, digits, cell", NUMBERS)
def test_number(value, digits, cell):
    assert number(value, digits) == cell


# seconds -> as a heading says it
DURATIONS = [(600, "10 min"), (60, "1 min"), (90, "90 s"), (10, "10 s"), (2.5, "2.5 s")]


@pytest.mark.parametrize("seconds, text", DURATIONS)
def test_duration(seconds, text):
    assert duration(seconds) == text


def test_markdown_table():
    assert markdown_table(["scenario", "p50 ms"], [["parallel", "35.1"], ["a|b", "2"]]) == (
        "| scenario | p50 ms |\n"
        "| :--- | ---: |\n"
        "| parallel | 35.1 |\n"
        "| a\\|b | 2 |")


def test_markdown_table_refuses_a_short_row():
    with pytest.raises(ValueError):
        markdown_table(["a", "b"], [["only one"]])


METRICS = """\
# HELP otelcol_receiver_accepted_spans_total Number of spans successfully pushed into the pipeline.
# TYPE otelcol_receiver_accepted_spans_total counter
otelcol_receiver_accepted_spans_total{receiver="otlp",service_instance_id="x",transport="http"} 4896
otelcol_receiver_accepted_spans_total{receiver="otlp",service_instance_id="x",transport="grpc"} 4
otelcol_receiver_refused_spans_total{receiver="otlp",service_instance_id="x",transport="http"} 0
otelcol_exporter_sent_spans_total{exporter="otlp_http/trace-store",service_instance_id="x"} 4890
otelcol_exporter_sent_spans_total{exporter="debug",service_instance_id="x"} 4900
otelcol_exporter_send_failed_spans_total{exporter="otlp_http/trace-store",service_instance_id="x"} 10
otelcol_exporter_queue_size{exporter="otlp_http/trace-store",service_instance_id="x"} 3
otelcol_process_uptime_seconds_total{service_instance_id="x"} 12.5
"""


def test_collector_counters_sum_over_other_labels_and_skip_other_metrics():
    assert collector_counters(METRICS) == {
        "otelcol_receiver_accepted_spans otlp": 4900.0,
        "otelcol_receiver_refused_spans otlp": 0.0,
        "otelcol_exporter_sent_spans otlp_http/trace-store": 4890.0,
        "otelcol_exporter_sent_spans debug": 4900.0,
        "otelcol_exporter_send_failed_spans otlp_http/trace-store": 10.0,
    }


def test_collector_counters_without_the_total_suffix():
    assert collector_counters('otelcol_exporter_sent_spans{exporter="debug"} 7\n') == {
        "otelcol_exporter_sent_spans debug": 7.0}


def test_counter_deltas_start_new_counters_at_zero():
    assert counter_deltas({"a": 5.0}, {"a": 8.0, "b": 2.0}) == {"a": 3.0, "b": 2.0}


# argv -> stages chosen
STAGE_CHOICES = [([], list(STAGES)), (["--stages", "memory"], ["memory"]),
                 (["--quick", "--stages", "latency, queryable"], ["latency", "queryable"])]


@pytest.mark.parametrize("argv, stages", STAGE_CHOICES)
def test_stage_selection(argv, stages):
    assert parse_args(argv).stages == stages


@pytest.mark.parametrize("argv", [["--stages", "nonsense"], ["--stages", ","], ["--saturation", "0"]])
def test_bad_options_are_refused(argv, capsys):
    with pytest.raises(SystemExit):
        parse_args(argv)

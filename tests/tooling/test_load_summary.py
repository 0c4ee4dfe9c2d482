"""The summary `make load` ends with (load/summary.py): its layout on plain
rows, and the rows it reads from Locust's own request statistics."""

from __future__ import annotations

import importlib

import pytest

from load.summary import Row, failures_from_stats, format_summary, rows_from_stats

ROWS = [
    Row("parallel", requests=600, failures=3, rate=10.0, percentiles_ms=(38, 84, 540)),
    Row("failure-timeout", requests=100, failures=0, rate=1.7, percentiles_ms=(2000, 2000, 2100)),
]
TOTAL = Row("all", requests=700, failures=3, rate=11.7, percentiles_ms=(40, 2000, 2000))

EXPECTED = """\
load summary: 700 requests, 11.7 req/s, 3 failed (0.4 %)
failed = not the scenario's designed status (scenarios/scenarios.json expect_status), or no answer
scenario         requests  req/s  failed  failed %  p50 ms  p95 ms  p99 ms
parallel              600   10.0       3       0.5      38      84     540
failure-timeout       100    1.7       0       0.0    2000    2000    2100
all                   700   11.7       3       0.4      40    2000    2000
failures:
  parallel: status 504, expected 200 (x3)"""


def test_summary_layout():
    assert format_summary(ROWS, TOTAL, [("parallel", "status 504, expected 200", 3)]) == EXPECTED


def test_summary_without_failures_has_no_failure_section():
    assert "failures:" not in format_summary(ROWS, TOTAL, [])


# requests, failures -> failed %
FAILURE_PERCENT = [(0, 0, 0.0), (4, 0, 0.0), (4, 1, 25.0), (3, 3, 100.0)]


@pytest.mark.parametrize(("requests", "failures", "percent"), FAILURE_PERCENT)
def test_failure_percent(requests, failures, percent):
    assert Row("x", requests, failures, 0.0, (0, 0, 0)).failure_percent == percent


@pytest.fixture
def locust_stats(monkeypatch):
    """Locust's RequestStats, imported without Locust patching this test
    process's standard library (that patch is for load runs only)."""
    monkeypatch.setenv("LOCUST_SKIP_MONKEY_PATCH", "1")
    return importlib.import_module("locust.stats").RequestStats()


def test_rows_come_from_locust_stats_in_table_order(locust_stats):
    for ms in (30, 40, 50, 60):
        locust_stats.log_request("GET", "parallel", ms, 100)
    locust_stats.log_request("GET", "c-error", 25, 100)
    locust_stats.log_error("GET", "parallel", "status 504, expected 200")
    locust_stats.total.start_time = locust_stats.total.last_request_timestamp - 2.0  # a 2 s run

    rows, total = rows_from_stats(locust_stats, ["parallel", "sequential", "c-error"])

    assert [(r.name, r.requests, r.failures, r.rate) for r in rows] == [("parallel", 4, 1, 2.0), ("c-error", 1, 0, 0.5)]
    assert rows[0].percentiles_ms == (50, 60, 60)  # Locust counts from the slow end: 2 of 4 at or above 50 ms
    assert (total.name, total.requests, total.failures, total.rate) == ("all", 5, 1, 2.5)
    assert failures_from_stats(locust_stats) == [("parallel", "status 504, expected 200", 1)]


def test_a_request_name_outside_the_table_is_still_shown_last(locust_stats):
    locust_stats.log_request("GET", "zz-extra", 10, 1)
    locust_stats.log_request("GET", "parallel", 10, 1)
    rows, _ = rows_from_stats(locust_stats, ["parallel"])
    assert [r.name for r in rows] == ["parallel", "zz-extra"]

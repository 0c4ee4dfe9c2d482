"""The pure parts of the benchmark report (benchmarks/report.py): summaries of
measured values, Markdown tables, the Collector's counters. No I/O, so they
are unit-tested on their own (tests/tooling/test_bench_report.py)."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

# The Collector's own counters (its telemetry port, /metrics), and the label
# that says which receiver or exporter a sample is about.
COLLECTOR_COUNTERS = {
    "otelcol_receiver_accepted_spans": "receiver",
    "otelcol_receiver_refused_spans": "receiver",
    "otelcol_exporter_sent_spans": "exporter",
    "otelcol_exporter_send_failed_spans": "exporter",
    "otelcol_exporter_enqueue_failed_spans": "exporter",
}
_SAMPLE = re.compile(r"^(?P<name>[a-z_]+?)(?:_total)?\{(?P<labels>[^}]*)\} (?P<value>\S+)$", re.M)
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: a latency some request really had (statistics.quantiles interpolates)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass(frozen=True)
class Distribution:
    """Nearest-rank percentiles: each is a value some request really had."""
    count: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: list[float]) -> "Distribution":
        if not values:
            nan = float("nan")
            return cls(0, nan, nan, nan, nan)
        return cls(len(values), percentile(values, 0.50), percentile(values, 0.95), percentile(values, 0.99),
                   max(values))


def number(value: float | int | None, digits: int = 1) -> str:
    """A table cell: fixed digits, '–' for a figure that was not measured."""
    if value is None or (isinstance(value, float) and value != value):  # None or NaN
        return "–"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def duration(seconds: float) -> str:
    """'10 min', '90 s': how long a stage ran, as a heading says it."""
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub Markdown table; the first column is left-aligned, the others
    (figures) right-aligned."""
    if any(len(row) != len(headers) for row in rows):
        raise ValueError(f"every row needs {len(headers)} cells")
    align = [":---"] + ["---:"] * (len(headers) - 1)
    lines = [headers, align, *rows]
    return "\n".join("| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |" for line in lines)


def collector_counters(metrics_text: str) -> dict[str, float]:
    """`{'<counter> <receiver or exporter>': value}` from a Prometheus text
    page; samples that differ only in other labels (the Collector's own
    service labels) are summed."""
    totals: dict[str, float] = defaultdict(float)
    for match in _SAMPLE.finditer(metrics_text):
        key_label = COLLECTOR_COUNTERS.get(match["name"])
        if key_label is None:
            continue
        labels = dict(_LABEL.findall(match["labels"]))
        totals[f"{match['name']} {labels.get(key_label, '')}".strip()] += float(match["value"])
    return dict(totals)


def counter_deltas(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """What each counter added between two readings (a counter new in `after` started at 0)."""
    return {key: after[key] - before.get(key, 0.0) for key in sorted(after)}


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("nan")

"""The summary `make load` ends with, from Locust's request statistics.

Reads Locust's stats objects by their attributes only (no Locust import), so
the formatting is unit-tested on plain rows (tests/tooling/test_load_summary.py).
"""

from __future__ import annotations

from dataclasses import dataclass

PERCENTILES = (0.50, 0.95, 0.99)


@dataclass(frozen=True)
class Row:
    name: str
    requests: int
    failures: int  # answers other than the scenario's designed status, and requests that got no answer
    rate: float  # requests per second over the whole run
    percentiles_ms: tuple[int, ...]  # PERCENTILES, as Locust rounds them

    @property
    def failure_percent(self) -> float:
        return 100.0 * self.failures / self.requests if self.requests else 0.0


def row(name: str, entry) -> Row:
    """One Row from a Locust StatsEntry."""
    return Row(name=name, requests=entry.num_requests, failures=entry.num_failures, rate=entry.total_rps,
               percentiles_ms=tuple(entry.get_response_time_percentile(p) or 0 for p in PERCENTILES))


def rows_from_stats(stats, order: list[str]) -> tuple[list[Row], Row]:
    """Per-scenario rows in `order` (the table's), then the total. Locust names
    each request after its scenario."""
    entries = {name: entry for (name, _method), entry in stats.entries.items()}
    ranked = sorted(entries, key=lambda name: (order.index(name) if name in order else len(order), name))
    return [row(name, entries[name]) for name in ranked], row("all", stats.total)


def failures_from_stats(stats) -> list[tuple[str, str, int]]:
    """(scenario, what went wrong, how often), most frequent first."""
    found = [(error.name, str(error.error), error.occurrences) for error in stats.errors.values()]
    return sorted(found, key=lambda item: (-item[2], item[0], item[1]))


def format_summary(rows: list[Row], total: Row, failures: list[tuple[str, str, int]]) -> str:
    headers = ("scenario", "requests", "req/s", "failed", "failed %", "p50 ms", "p95 ms", "p99 ms")
    lines = [(r.name, str(r.requests), f"{r.rate:.1f}", str(r.failures), f"{r.failure_percent:.1f}",
              *(str(ms) for ms in r.percentiles_ms)) for r in [*rows, total]]
    widths = [max(len(cells[i]) for cells in [headers, *lines]) for i in range(len(headers))]

    def fmt(cells) -> str:
        return "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(cells, widths)))

    text = [
        f"load summary: {total.requests} requests, {total.rate:.1f} req/s, "
        f"{total.failures} failed ({total.failure_percent:.1f} %)",
        "failed = not the scenario's designed status (scenarios/scenarios.json expect_status), or no answer",
        fmt(headers),
        *(fmt(cells) for cells in lines[:-1]),
        fmt(lines[-1]),
    ]
    if failures:
        text.append("failures:")
        text += [f"  {name}: {what} (x{count})" for name, what, count in failures]
    return "\n".join(text)

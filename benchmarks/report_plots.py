"""The PNG plots of the benchmark report (benchmarks/report.py), drawn with
matplotlib's Agg backend: files only, no display needed."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend

DPI = 110


def _save(figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path


def latency_per_scenario(latencies: dict[str, list[float]], path: Path) -> Path:
    """One box per scenario (whiskers at p1 and p99), on a log axis: the
    timeout scenarios wait seconds by design, the others take milliseconds."""
    names = list(latencies)
    figure, axes = plt.subplots(figsize=(9, 0.32 * len(names) + 1.4))
    axes.boxplot([latencies[name] for name in names], orientation="horizontal", whis=(1, 99), showfliers=False,
                 tick_labels=[f"{name} (n={len(latencies[name])})" for name in names])
    axes.invert_yaxis()  # the table's order, top to bottom
    axes.set_xscale("log")
    axes.set_xlabel("latency through the gateway, ms (box p25-p75, line p50, whiskers p1-p99)")
    axes.grid(axis="x", which="both", alpha=0.3)
    return _save(figure, path)


def throughput_vs_offered(points, saturation: float, path: Path) -> Path:
    offered = [p.offered for p in points]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(offered, [p.achieved for p in points], "o-", label="achieved (200 answers/s)")
    left.plot(offered, offered, ":", color="grey", label="achieved = offered")
    left.axvline(saturation, color="red", alpha=0.4, label=f"saturation {saturation:.0f}/s")
    left.set_xlabel("offered rate, requests/s")
    left.set_ylabel("throughput, requests/s")
    left.legend()
    for attribute, style in (("p50", "o-"), ("p99", "s--")):
        right.plot(offered, [getattr(p.latency, attribute) for p in points], style, label=attribute)
    right.axvline(saturation, color="red", alpha=0.4)
    right.set_yscale("log")
    right.set_xlabel("offered rate, requests/s")
    right.set_ylabel("latency, ms (from scheduled start)")
    right.legend()
    for axes in (left, right):
        axes.grid(alpha=0.3)
    figure.suptitle("/api/demo/parallel, open loop")
    return _save(figure, path)


def memory_over_time(samples, path: Path) -> Path:
    figure, axes = plt.subplots(figsize=(10, 4.5))
    names = sorted({name for sample in samples for name in sample.mib})
    for name in names:
        points = [(s.seconds, s.mib[name]) for s in samples if name in s.mib]
        axes.plot([t for t, _ in points], [m for _, m in points], label=name, linewidth=1.2)
    # Stage boundaries, labelled once each.
    previous = None
    for sample in samples:
        if sample.stage != previous:
            axes.axvline(sample.seconds, color="grey", alpha=0.3, linewidth=0.8)
            axes.text(sample.seconds, 1.0, f" {sample.stage}", transform=axes.get_xaxis_transform(),
                      rotation=90, va="top", fontsize=7, color="dimgrey")
            previous = sample.stage
    axes.set_xlabel("seconds since the stack started")
    axes.set_ylabel("resident memory, MiB (process + children)")
    axes.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    axes.grid(alpha=0.3)
    return _save(figure, path)


def queryable_cdf(by_id: list[float], by_search: list[float], path: Path) -> Path:
    figure, axes = plt.subplots(figsize=(7, 4))
    for label, values in (("by id (complete)", by_id), ("by search (service + tag)", by_search)):
        ordered = sorted(values)
        if ordered:
            axes.step(ordered, [(i + 1) / len(ordered) for i in range(len(ordered))], where="post",
                      label=f"{label}, n={len(ordered)}")
    axes.set_xlabel("seconds from the response to the trace being queryable (Jaeger)")
    axes.set_ylabel("fraction of traces")
    axes.legend()
    axes.grid(alpha=0.3)
    return _save(figure, path)


def tracing_cost(arms, path: Path) -> Path:
    """Each measured arm as a point, traced against untraced, per figure."""
    figures = (("throughput", "saturation, req/s"), ("p50", "p50 ms"), ("p99", "p99 ms"),
               ("cpu", "stack CPU ms/request"))
    figure, axes_row = plt.subplots(1, len(figures), figsize=(12, 3.4))
    for axes, (key, label) in zip(axes_row, figures):
        for position, traced in enumerate((False, True)):
            values = [_arm_value(arm, key) for arm in arms if arm.traced == traced]
            axes.plot([position] * len(values), values, "o", alpha=0.7)
            if values:
                axes.bar(position, sum(values) / len(values), alpha=0.3)
        axes.set_xticks([0, 1], ["untraced", "traced"])
        axes.set_title(label, fontsize=10)
        axes.grid(axis="y", alpha=0.3)
    return _save(figure, path)


def _arm_value(arm, key: str) -> float:
    if key == "throughput":
        return arm.throughput
    if key == "cpu":
        return arm.cpu_ms_per_request
    return getattr(arm.latency, key)

"""Benchmark: how long the native stack takes to start and stop, per process.

Prints figures; asserts nothing. Run after a build (`make build`) so that only
start-up is measured:

    python3 benchmarks/native_startup.py [--rounds N]

Each round starts the stack in order (trace store, Collector, services,
gateway), waiting for each health check, then stops it. Resident memory of
each process is read from /proc once everything is up.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.processes import rss_mib  # noqa: E402
from tools.native.stack import START_ORDER, NativeStack  # noqa: E402


def one_round(stack: NativeStack) -> tuple[dict[str, float], dict[str, float], float]:
    starts: dict[str, float] = {}
    try:
        for name in START_ORDER:
            began = time.perf_counter()
            stack.start_component(name)
            starts[name] = time.perf_counter() - began
        memory = {name: rss_mib(proc.popen.pid) for name, proc in stack.processes.items()}
    except BaseException:
        stack.stop()  # a failed or interrupted round must not leave processes behind
        raise
    began = time.perf_counter()
    stack.stop()
    return starts, memory, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    stack = NativeStack.from_repo()
    stack.build()
    rounds = [one_round(stack) for _ in range(args.rounds)]

    print(f"\nnative stack start-up, {args.rounds} rounds (seconds until healthy; median / max)")
    for name in START_ORDER:
        values = [r[0][name] for r in rounds]
        memory = statistics.median(r[1][name] for r in rounds)
        print(f"  {name:<10} {statistics.median(values):6.2f} / {max(values):6.2f}   rss {memory:6.1f} MiB")
    totals = [sum(r[0].values()) for r in rounds]
    stops = [r[2] for r in rounds]
    print(f"  {'total':<10} {statistics.median(totals):6.2f} / {max(totals):6.2f}")
    print(f"  {'stop all':<10} {statistics.median(stops):6.2f} / {max(stops):6.2f}")


if __name__ == "__main__":
    main()

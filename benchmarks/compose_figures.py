"""Figures of a running compose stack, for docs/compose.md.

    .venv/bin/python benchmarks/compose_figures.py queryable [--samples 60]
    .venv/bin/python benchmarks/compose_figures.py spread [--requests 60]

queryable: one /api/demo/parallel request at a time; from the moment its
answer is read, how long until Tempo returns the trace complete by id, and
until TraceQL search finds it (p50 / p99).
spread: run against a stack started with `--scale service-b=3 --scale
service-c=2`: sends the requests through the gateway and counts, per
container, the log lines that carry their X-Trace-IDs.
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
from collections import Counter
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report_measure import PARALLEL, queryable_delays  # noqa: E402
from benchmarks.report_text import Distribution  # noqa: E402
from tests.stores import make_store  # noqa: E402
from tools.compose_check.stack import PROJECT  # noqa: E402
from tools.native.settings import read_dotenv  # noqa: E402
from tools.scenario_table import load_scenarios  # noqa: E402

ENV = read_dotenv()
GATEWAY = f"http://127.0.0.1:{ENV['GATEWAY_PORT']}"
TEMPO = f"http://127.0.0.1:{ENV['TEMPO_PORT']}"


def queryable(samples: int) -> None:
    tree = next(s for s in load_scenarios() if s["name"] == "parallel")["tree"]
    found = queryable_delays(GATEWAY, lambda: make_store("tempo", TEMPO), tree, samples, secrets.token_hex(4))
    for label, values in (("by id (complete)", found.by_id_s), ("by TraceQL search", found.by_search_s)):
        d = Distribution.of(values)
        print(f"response -> queryable {label:<18} n={d.count}  p50 {d.p50:.2f} s  p99 {d.p99:.2f} s  "
              f"max {d.max:.2f} s")
    print(f"timeouts: {found.timeouts}")


def lines_per_container(x_trace_ids: set[str]) -> Counter:
    containers = subprocess.run(["docker", "ps", "--filter", f"label=com.docker.compose.project={PROJECT}",
                                 "--format", "{{.Names}}"], capture_output=True, text=True, check=True).stdout.split()
    counts: Counter = Counter()
    for name in containers:
        log = subprocess.run(["docker", "logs", name], capture_output=True, text=True).stdout
        for line in log.splitlines():
            try:
                fields = json.loads(line)
            except ValueError:
                continue
            if isinstance(fields, dict) and fields.get("x_trace_id") in x_trace_ids:
                counts[name] += 1
    return counts


def spread(count: int) -> None:
    prefix = f"spread-{secrets.token_hex(4)}"
    ids = {f"{prefix}-{n:04d}" for n in range(count)}
    statuses = Counter(requests.get(GATEWAY + PARALLEL, headers={"X-Trace-ID": x}, timeout=15).status_code
                       for x in sorted(ids))
    print(f"{count} requests of {PARALLEL}: statuses {dict(statuses)}")
    for name, lines in sorted(lines_per_container(ids).items()):
        print(f"  {name:<40} {lines:>4} line(s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("figure", choices=["queryable", "spread"])
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    if args.figure == "queryable":
        queryable(args.samples)
    else:
        spread(args.requests)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: complete traces through a Collector outage.

Prints figures; asserts nothing. Run after a build (`make build`), with the
test environment's Python (it reuses the e2e suite's store client and trace
rules):

    .venv/bin/python benchmarks/collector_outage.py [--rate 20] [--outage 60] [--before 10] [--after 20]

It starts the native stack itself (and always stops it again, also on
Ctrl-C), then sends `parallel` requests through the gateway at --rate per
second, each with a known X-Trace-ID, for --before seconds, stops the
Collector for --outage seconds while the load goes on, starts it again and
keeps the load for --after seconds. Then it polls Jaeger (bounded by --settle
seconds) until every trace is complete by the e2e suite's rules
(tests/support/trace_tree.py: the scenario's exact tree, no dangling parent)
or the time is up, and prints per phase: sent, answered 200, complete,
partial, missing entirely, plus the spans missing per service, how long after
the Collector's return the outage's traces were all complete, and what each
service logged about telemetry meanwhile. Every loop is
bounded by count and time; traffic goes to loopback only.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.processes import stopped_on_exit  # noqa: E402
from tests.chaos.load import Load, Sent  # noqa: E402
from tests.stores.jaeger import JaegerStore  # noqa: E402
from tests.support.polling import NotYet, PollTimeout, poll_until  # noqa: E402
from tests.support.trace_tree import dangling_parents, tree_differences  # noqa: E402
from tools.native.stack import SERVICES, NativeStack  # noqa: E402
from tools.scenario_table import load_scenarios, select  # noqa: E402

SCENARIO = "parallel"
POLL_INTERVAL_S = 2.0


def judge(store: JaegerStore, tree: dict, item: Sent) -> tuple[str, Counter]:
    """('complete' | 'partial' | 'missing', spans present per service)."""
    trace = store.get_trace(item.otel_trace_id) if item.otel_trace_id else None
    if trace is None:
        return "missing", Counter()
    present = Counter(span.service for span in trace.spans)
    if tree_differences(tree, trace, "") or dangling_parents(trace):
        return "partial", present
    return "complete", present


def expected_spans(tree: dict) -> Counter:
    counts = Counter({tree["service"]: 1})
    for child in tree.get("children", []):
        counts += expected_spans(child)
    return counts


log_offsets: dict[str, int] = {}
log_ends: dict[str, int] = {}


def print_log_volume(stack: NativeStack) -> None:
    """What each service logged about telemetry while the Collector was down."""
    print("\n  service log lines written during the outage (telemetry only: WARN/ERROR outside requests)")
    for name in SERVICES:
        with stack.log_path(name).open("rb") as log:
            log.seek(log_offsets[name])
            chunk = log.read(log_ends[name] - log_offsets[name]).decode(errors="replace")
        lines = [json.loads(line) for line in chunk.splitlines() if line.startswith("{")]
        noisy = Counter(line["message"] for line in lines
                        if line.get("level") in ("WARN", "ERROR") and not line.get("x_trace_id"))
        shown = "; ".join(f"{count} x {message[:60]!r}" for message, count in noisy.most_common(4)) or "none"
        print(f"  {name:<10} {sum(noisy.values()):>4}  {shown}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=20, help="requests per second (default 20)")
    parser.add_argument("--before", type=float, default=10, help="seconds of load before the outage (default 10)")
    parser.add_argument("--outage", type=float, default=60, help="seconds the Collector is down (default 60)")
    parser.add_argument("--after", type=float, default=20, help="seconds of load after its restart (default 20)")
    parser.add_argument("--settle", type=float, default=180,
                        help="at most this many seconds of polling the store afterwards (default 180)")
    args = parser.parse_args()
    if min(args.rate, args.before, args.outage, args.after, args.settle) <= 0 or args.rate > 200:
        parser.error("every value must be positive, --rate at most 200")
    return args


def main() -> int:
    args = parse_args()
    [scenario] = select(load_scenarios(), [SCENARIO])
    tree, want = scenario["tree"], expected_spans(scenario["tree"])
    stack = NativeStack.from_repo()
    try:
        with stopped_on_exit(stack):
            stack.build()
            stack.start(build_first=False)
            store = JaegerStore(stack.store_url)
            total_s = args.before + args.outage + args.after
            began = time.monotonic()
            with Load(stack.gateway_url, scenario["path"], f"outage-{time.strftime('%H%M%S')}", rate=args.rate,
                      limit=math.ceil(total_s * args.rate)) as load:
                time.sleep(args.before)  # the schedule of the phases, not a wait for a state
                down_at = time.monotonic()
                for name in SERVICES:
                    log_offsets[name] = stack.log_path(name).stat().st_size
                print(f"t={time.monotonic() - began:5.1f}s stopping the Collector "
                      f"(exit code {stack.stop_component('collector')})")
                time.sleep(max(0.0, began + args.before + args.outage - time.monotonic()))
                stack.start_component("collector")
                back_at = time.monotonic()
                for name in SERVICES:
                    log_ends[name] = stack.log_path(name).stat().st_size
                up_at = time.monotonic()
                print(f"t={back_at - began:5.1f}s Collector started again")

                def phase(record: Sent) -> str:
                    return "before" if record.started < down_at else "during" if record.started < up_at else "after"

                # Judged while the load goes on, so the recovery time of the outage's
                # traces is measured from the Collector's return, not from the load's end.
                verdicts: dict[str, tuple[str, Counter]] = {}
                outage_complete_at = None

                def settled() -> bool | NotYet:
                    nonlocal outage_complete_at
                    sent, done = list(load.sent), not load.running and all(r.finished for r in load.sent)
                    for record in (r for r in sent if r.status is not None or done):
                        if verdicts.get(record.x_trace_id, ("",))[0] != "complete":
                            verdicts[record.x_trace_id] = judge(store, tree, record)
                    during = [verdicts.get(r.x_trace_id, ("",))[0] for r in sent if phase(r) == "during"]
                    if outage_complete_at is None and during and all(v == "complete" for v in during):
                        outage_complete_at = time.monotonic()
                    complete = sum(v[0] == "complete" for v in verdicts.values())
                    return (done and complete == len(sent)) or NotYet(f"{complete} of {len(sent)} complete")

                try:
                    poll_until(settled, timeout=args.after + args.settle, interval=POLL_INTERVAL_S,
                               describe="every trace of the load complete")
                except PollTimeout:
                    pass  # the table says which are not
            sent = load.sent  # leaving the block waited for every answer
            for record in sent:
                verdicts.setdefault(record.x_trace_id, judge(store, tree, record))

            print(f"\n{SCENARIO} at {args.rate:g} req/s; Collector down {args.outage:g} s "
                  f"after {args.before:g} s, then {args.after:g} s more load")
            print(f"  {'phase':<7} {'sent':>5} {'200':>5} {'complete':>9} {'partial':>8} {'missing':>8}  "
                  "missing spans per service")
            for name in ("before", "during", "after", "all"):
                items = [r for r in sent if name in (phase(r), "all")]
                kinds = Counter(verdicts[r.x_trace_id][0] for r in items)
                lost = Counter()
                for r in items:
                    present = verdicts[r.x_trace_id][1]
                    lost.update({s: max(0, want[s] - present[s]) for s in want})
                lost_text = ", ".join(f"{s} {lost[s]}" for s in sorted(want)) or "-"
                print(f"  {name:<7} {len(items):>5} {sum(r.status == 200 for r in items):>5} {kinds['complete']:>9} "
                      f"{kinds['partial']:>8} {kinds['missing']:>8}  {lost_text}")
            if outage_complete_at is None:
                print(f"  the outage's traces were not all complete when polling stopped ({args.settle:g} s after "
                      "the load)")
            else:
                print(f"  the outage's traces were all complete {outage_complete_at - back_at:.1f} s after the "
                      f"Collector's return (polled every {POLL_INTERVAL_S:g} s)")
        print_log_volume(stack)
        return 0
    except KeyboardInterrupt:
        return 130

if __name__ == "__main__":
    sys.exit(main())

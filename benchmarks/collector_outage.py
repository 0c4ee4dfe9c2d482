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
import sys
import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.stores.jaeger import JaegerStore  # noqa: E402
from tests.support.trace_tree import dangling_parents, tree_differences  # noqa: E402
from tools.native.stack import SERVICES, NativeStack  # noqa: E402
from tools.scenario_table import load_scenarios, select  # noqa: E402

SCENARIO = "parallel"
REQUEST_TIMEOUT_S = 10
SENDER_THREADS = 16
POLL_INTERVAL_S = 2.0
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, no proxy


@dataclass
class Sent:
    x_trace_id: str
    phase: str  # before / during / after
    status: int | None = None
    otel_trace_id: str = ""


def send(gateway: str, path: str, item: Sent) -> None:
    request = urllib.request.Request(gateway + path, headers={"X-Trace-ID": item.x_trace_id})
    try:
        with OPENER.open(request, timeout=REQUEST_TIMEOUT_S) as response:
            item.status = response.status
            item.otel_trace_id = json.loads(response.read()).get("otel_trace_id", "")
    except urllib.error.HTTPError as error:
        item.status = error.code
    except (urllib.error.URLError, OSError, ValueError):
        item.status = None


def drive_load(gateway: str, path: str, rate: float, phase_of: dict, stop_at: float, run_id: str,
               limit: int, sent: list[Sent]) -> None:
    """Send at `rate` per second until `stop_at` (monotonic) or `limit` requests, appending to `sent`."""
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=SENDER_THREADS) as pool:
        for n in range(limit):
            due = began + n / rate
            if due >= stop_at:
                break
            time.sleep(max(0.0, due - time.monotonic()))
            item = Sent(f"outage-{run_id}-{n:05d}", phase_of["phase"])
            sent.append(item)
            pool.submit(send, gateway, path, item)


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
        stack.build()
        stack.start(build_first=False)
        store = JaegerStore(stack.store_url)
        gateway = stack.gateway_url
        run_id = time.strftime("%H%M%S")
        phase = {"phase": "before"}
        total_s = args.before + args.outage + args.after
        began = time.monotonic()
        sent: list[Sent] = []
        load = threading.Thread(target=drive_load, args=(
            gateway, scenario["path"], args.rate, phase, began + total_s, run_id, int(total_s * args.rate) + 1, sent))
        load.start()

        time.sleep(args.before)
        phase["phase"] = "during"
        for name in SERVICES:
            log_offsets[name] = stack.log_path(name).stat().st_size
        print(f"t={time.monotonic() - began:5.1f}s stopping the Collector (exit code {stack.stop_component('collector')})")
        time.sleep(max(0.0, began + args.before + args.outage - time.monotonic()))
        stack.start_component("collector")
        back_at = time.monotonic()
        for name in SERVICES:
            log_ends[name] = stack.log_path(name).stat().st_size
        phase["phase"] = "after"
        print(f"t={back_at - began:5.1f}s Collector started again")

        # Judged while the load goes on, so the recovery time of the outage's
        # traces is measured from the Collector's return, not from the load's end.
        verdicts: dict[str, tuple[str, Counter]] = {}
        settle_end = time.monotonic() + args.after + args.settle
        outage_complete_at = None
        while time.monotonic() < settle_end:
            answered = [item for item in list(sent) if item.status is not None or not load.is_alive()]
            for item in answered:
                if verdicts.get(item.x_trace_id, ("",))[0] != "complete":
                    verdicts[item.x_trace_id] = judge(store, tree, item)
            during = [verdicts.get(i.x_trace_id, ("",))[0] for i in sent if i.phase == "during"]
            if outage_complete_at is None and during and all(v == "complete" for v in during):
                outage_complete_at = time.monotonic()
            if not load.is_alive() and len(verdicts) == len(sent) and all(v[0] == "complete" for v in verdicts.values()):
                break
            time.sleep(POLL_INTERVAL_S)
        load.join(timeout=60)
        for item in sent:
            verdicts.setdefault(item.x_trace_id, judge(store, tree, item))

        print(f"\n{SCENARIO} at {args.rate:g} req/s; Collector down {args.outage:g} s "
              f"after {args.before:g} s, then {args.after:g} s more load")
        print(f"  {'phase':<7} {'sent':>5} {'200':>5} {'complete':>9} {'partial':>8} {'missing':>8}  missing spans per service")
        for name in ("before", "during", "after", "all"):
            items = [i for i in sent if name in (i.phase, "all")]
            kinds = Counter(verdicts[i.x_trace_id][0] for i in items)
            lost = Counter()
            for i in items:
                present = verdicts[i.x_trace_id][1]
                lost.update({s: max(0, want[s] - present[s]) for s in want})
            lost_text = ", ".join(f"{s} {lost[s]}" for s in sorted(want)) or "-"
            print(f"  {name:<7} {len(items):>5} {sum(i.status == 200 for i in items):>5} {kinds['complete']:>9} "
                  f"{kinds['partial']:>8} {kinds['missing']:>8}  {lost_text}")
        if outage_complete_at is None:
            print(f"  the outage's traces were not all complete when polling stopped ({args.settle:g} s after the load)")
        else:
            print(f"  the outage's traces were all complete {outage_complete_at - back_at:.1f} s after the "
                  f"Collector's return (polled every {POLL_INTERVAL_S:g} s)")
        stack.stop()
        print_log_volume(stack)
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())

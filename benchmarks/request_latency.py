"""Benchmark: request latency through the gateway, per demo scenario.

Prints figures; asserts nothing. Run after a build (`make build`):

    python3 benchmarks/request_latency.py [--requests N] [--concurrency K] [SCENARIO ...]
    python3 benchmarks/request_latency.py --gateway http://127.0.0.1:8080   # a stack already running

Without --gateway it starts the native stack itself and always stops it again,
also on Ctrl-C. After a few warm-up requests, each scenario of
scenarios/scenarios.json gets N sequential requests through the gateway, with
the scenario's headers; per scenario it prints the count, the statuses seen
(and whether they all are the scenario's expect_status) and p50 / p95 / max
latency in ms. With --concurrency K > 1, K threads then share N requests of
the `parallel` scenario and it prints requests per second. When it started the
stack it also prints each process's resident memory before and after the load.
Every loop is bounded by count and by --max-seconds; traffic goes to loopback only.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.processes import pids, rss_mib, snapshot, stopped_on_exit  # noqa: E402
from benchmarks.report_text import Distribution  # noqa: E402
from tools.native.process import StartupError  # noqa: E402
from tools.native.stack import NativeStack  # noqa: E402
from tools.scenario_table import load_scenarios, select  # noqa: E402

# Their latency is a deliberate wait for DOWNSTREAM_TIMEOUT_MS (2 s by default):
# they would measure a setting, not the stack, and take minutes. Run when named.
SLOW_BY_DESIGN = ("failure-timeout", "b-timeout")
THROUGHPUT_SCENARIO = "parallel"
REQUEST_TIMEOUT_S = 30
COLUMNS = f"{'n':>4}  {'statuses':<16} {'all':<4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
# No proxy from the environment may carry the traffic off this machine.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def timed_request(url: str, headers: dict[str, str], deadline: float) -> tuple[int | None, float]:
    """(HTTP status or None when there was no answer, latency in ms)."""
    timeout = max(1.0, min(REQUEST_TIMEOUT_S, deadline - time.monotonic()))
    began = time.perf_counter()
    try:
        with OPENER.open(urllib.request.Request(url, headers=headers), timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:  # a 4xx/5xx answer is a result, not a failure to call
        with error:
            error.read()
        status = error.code
    except (urllib.error.URLError, OSError):
        status = None
    return status, (time.perf_counter() - began) * 1000


def summary(scenario: dict, results: list[tuple[int | None, float]]) -> str:
    statuses = Counter("none" if status is None else str(status) for status, _ in results)
    seen = " ".join(f"{code}x{count}" for code, count in statuses.most_common())
    expected = set(statuses) == {str(scenario["expect_status"])}
    latency = Distribution.of([ms for _, ms in results])
    return (f"{len(results):4d}  {seen:<16} {'yes' if expected else 'NO':<4} "
            f"{latency.p50:8.1f} {latency.p95:8.1f} {latency.max:8.1f}")


def run_sequential(gateway: str, scenario: dict, count: int, deadline: float) -> list[tuple[int | None, float]]:
    url, headers = gateway + scenario["path"], scenario.get("headers", {})
    return [timed_request(url, headers, deadline) for _ in range(count) if time.monotonic() < deadline]


def run_concurrent(gateway: str, scenario: dict, count: int, threads: int, deadline: float) -> None:
    url, headers = gateway + scenario["path"], scenario.get("headers", {})

    def one(_: int) -> tuple[int | None, float] | None:
        return timed_request(url, headers, deadline) if time.monotonic() < deadline else None

    pool = ThreadPoolExecutor(max_workers=threads)
    began = time.perf_counter()
    try:
        results = [result for result in pool.map(one, range(count)) if result is not None]
    finally:
        pool.shutdown(cancel_futures=True)  # Ctrl-C must not wait for the queued requests
    elapsed = time.perf_counter() - began
    if not results:
        print(f"\n{scenario['name']} with {threads} threads: not run")
        return
    print(f"\n{scenario['name']} with {threads} threads: {len(results)} requests in {elapsed:.2f} s "
          f"= {len(results) / elapsed:.1f} requests/s\n  {'':<22} {COLUMNS}\n"
          f"  {scenario['name']:<22} {summary(scenario, results)}")


def print_memory(before: dict[str, float], after: dict[str, float]) -> None:
    print("\nresident memory, MiB (process + children): before load / after load / change")
    for name, mib in before.items():
        change = f"{after[name]:7.1f} / {after[name] - mib:+6.1f}" if name in after else "stopped during the load"
        print(f"  {name:<10} {mib:7.1f} / {change}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                        help=f"scenario names (default: all but {', '.join(SLOW_BY_DESIGN)})")
    parser.add_argument("--requests", type=int, default=50, help="requests per scenario (default 50)")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured requests per scenario first (default 3)")
    parser.add_argument("--concurrency", type=int, default=1,
                        help=f"threads for a requests/second run of {THROUGHPUT_SCENARIO!r} (default 1: no such run)")
    parser.add_argument("--max-seconds", type=float, default=120,
                        help="cap on the time spent sending requests (default 120)")
    parser.add_argument("--gateway", help="use this running gateway (loopback only) instead of starting "
                                          "the native stack; process memory is then not reported")
    args = parser.parse_args()
    if args.gateway and urllib.parse.urlsplit(args.gateway).hostname not in LOOPBACK_HOSTS:
        parser.error("--gateway must point at 127.0.0.1 or localhost")
    if min(args.requests, args.concurrency) < 1 or args.warmup < 0 or args.max_seconds <= 0:
        parser.error("--requests and --concurrency must be at least 1, --warmup not negative, --max-seconds positive")
    return args


def measure(args: argparse.Namespace, gateway: str, scenarios: list[dict]) -> None:
    deadline = time.monotonic() + args.max_seconds
    for scenario in scenarios:
        run_sequential(gateway, scenario, args.warmup, deadline)
    print(f"\nlatency through {gateway}, {args.requests} sequential requests per scenario "
          f"after {args.warmup} warm-up each")
    print(f"  {'scenario':<22} {COLUMNS}")
    for scenario in scenarios:
        results = run_sequential(gateway, scenario, args.requests, deadline)
        print(f"  {scenario['name']:<22} {summary(scenario, results) if results else '   0  not run'}", flush=True)
    if args.concurrency > 1:
        throughput = select(load_scenarios(), [THROUGHPUT_SCENARIO])[0]
        run_concurrent(gateway, throughput, args.requests, args.concurrency, deadline)
    if time.monotonic() >= deadline:
        print(f"\n(stopped early: --max-seconds {args.max_seconds:g} reached)")


def main() -> int:
    args = parse_args()
    try:
        scenarios = select(load_scenarios(), args.scenarios)
    except KeyError as error:
        print(f"request_latency: {error.args[0]}", file=sys.stderr)
        return 2
    if not args.scenarios:
        scenarios = [s for s in scenarios if s["name"] not in SLOW_BY_DESIGN]
        print(f"skipping {', '.join(SLOW_BY_DESIGN)}: their latency is a deliberate timeout; name them to run them")
    stack = None if args.gateway else NativeStack.from_repo()
    try:
        with stopped_on_exit(stack):
            if stack:
                stack.build()
                stack.start(build_first=False)  # on failure it stops what it had started
                before = snapshot(rss_mib, pids(stack))
            gateway = (args.gateway or stack.gateway_url).rstrip("/")
            if timed_request(f"{gateway}/health", {}, time.monotonic() + 5)[0] != 200:
                print(f"request_latency: the gateway does not answer at {gateway}/health", file=sys.stderr)
                return 2
            measure(args, gateway, scenarios)
            if stack:
                print_memory(before, snapshot(rss_mib, pids(stack)))
            else:
                print("\n(no process memory: this run did not start the stack)")
    except (StartupError, subprocess.CalledProcessError) as error:  # a failed build or start
        print(f"request_latency: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

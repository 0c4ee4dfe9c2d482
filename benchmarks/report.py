"""The benchmark report: `make bench` writes docs/performance.md and its plots
(docs/performance/*.png).

    .venv/bin/python benchmarks/report.py [--quick] [--stages memory,queryable,...] [--saturation RPS]

It starts the native stack itself (after `make build`'s build step), runs
every selected stage, stops the stack again (also on Ctrl-C or SIGTERM) and
writes the report. Stages, in the order they run:

  memory        resident memory per process: idle, after 10 minutes at 100 req/s
                of /api/demo/parallel, and the peak over the whole run
  queryable     response -> trace queryable in Jaeger, by id and by search
  latency       latency per scenario, the scenario mix through Locust
  throughput    throughput and latency against offered rate (/api/demo/parallel)
  completeness  % of traces complete at 50 % and 90 % of saturation, with the
                Collector's own counters
  tracing-cost  traced vs untraced services, interleaved A/B pairs

The saturation throughput of /api/demo/parallel, which the last three stages
scale their rates by, is measured once when one of them runs (or given with
--saturation). The full run takes about 20 minutes (the 10-minute soak
dominates); --quick runs every stage for seconds, for development and tests,
and marks the report as such.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import report_measure as measure  # noqa: E402
from benchmarks import report_plots as plots  # noqa: E402
from benchmarks.processes import stopped_on_exit  # noqa: E402
from benchmarks.report_text import Distribution, duration, markdown_table, number, ratio  # noqa: E402
from benchmarks.saturation import find_saturation  # noqa: E402
from tests.stores import make_store  # noqa: E402
from tools.native.process import StartupError  # noqa: E402
from tools.native.settings import REPO  # noqa: E402
from tools.native.stack import START_ORDER  # noqa: E402
from tools.scenario_table import load_scenarios, scenario_names, select  # noqa: E402

STAGES = ("memory", "queryable", "latency", "throughput", "completeness", "tracing-cost")
DOC = REPO / "docs" / "performance.md"
CURVE_FRACTIONS = (0.25, 0.5, 0.75, 0.9, 1.0, 1.2)
COMPLETENESS_FRACTIONS = (("half", 0.5), ("90 %", 0.9))


@dataclass(frozen=True)
class Plan:
    """How long each stage runs: the full run, or --quick."""
    soak_s: float
    soak_rate: float
    queryable_samples: int
    latency_s: float
    latency_rate: float
    latency_users: int
    saturation_s: float  # each concurrency step of find_saturation's ramp
    curve_s: float
    completeness_s: float
    completeness_settle_s: float
    pairs: int
    arm_s: float
    arm_saturation_s: float  # likewise, in each arm of the tracing cost pairs
    memory_interval_s: float


# The queryable stage's second measurement: the decision wait the e2e suite runs.
SHORT_DECISION_WAIT = "1s"

FULL = Plan(soak_s=600, soak_rate=100, queryable_samples=40,
            latency_s=60, latency_rate=20, latency_users=30, saturation_s=5, curve_s=15,
            completeness_s=60, completeness_settle_s=120, pairs=2, arm_s=15, arm_saturation_s=3,
            memory_interval_s=1.0)
QUICK = Plan(soak_s=10, soak_rate=100, queryable_samples=5,
             latency_s=8, latency_rate=20, latency_users=30, saturation_s=1, curve_s=3,
             completeness_s=5, completeness_settle_s=30, pairs=1, arm_s=3, arm_saturation_s=1,
             memory_interval_s=0.5)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="every stage for seconds instead of minutes")
    parser.add_argument("--stages", default=",".join(STAGES),
                        help=f"comma-separated, any of: {', '.join(STAGES)} (default: all)")
    parser.add_argument("--saturation", type=float,
                        help="saturation of /api/demo/parallel in req/s, instead of measuring it")
    parser.add_argument("--output", type=Path, default=DOC, help=f"the Markdown file (default {DOC.relative_to(REPO)});"
                        " the plots go to a folder of the same name without .md")
    args = parser.parse_args(argv)
    args.stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = [s for s in args.stages if s not in STAGES]
    if unknown or not args.stages:
        parser.error(f"unknown stage(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(STAGES)}")
    if args.saturation is not None and not args.saturation > 0:
        parser.error("--saturation must be above 0")
    return args


# ------------------------------------------------------------ the machine
def machine() -> dict[str, str]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    load1, load5, load15 = os.getloadavg()
    commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO, capture_output=True,
                            text=True, check=False).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                           capture_output=True, text=True, check=False).stdout.strip()
    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal:"))
    return {
        "date (UTC)": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "git commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "CPU": f"{os.cpu_count()} cores, {model}",
        "memory": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "load average at start (1/5/15 min)": f"{load1:.2f} / {load5:.2f} / {load15:.2f}",
        "kernel, Python": f"{platform.release()}, {platform.python_version()}",
    }


# ------------------------------------------------------------ the run
class Run:
    """Runs the selected stages on one stack and collects Markdown sections."""

    def __init__(self, args: argparse.Namespace, stack: measure.BenchStack, sampler: measure.MemorySampler,
                 workdir: Path, plot_dir: Path):
        self.args, self.stack, self.sampler, self.workdir, self.plot_dir = args, stack, sampler, workdir, plot_dir
        self.plan = QUICK if args.quick else FULL
        self.run_id = time.strftime("%H%M%S")
        self.scenarios = load_scenarios()
        [self.parallel] = select(self.scenarios, ["parallel"])
        self.sections: list[str] = []
        self.saturation: float | None = args.saturation
        self.saturation_note = "given with --saturation" if args.saturation else ""
        self.idle = measure.memory_now(stack)
        self.after_soak: dict[str, float] = {}
        self.soak_note = ""
        self.store_note = ""

    def stage(self, name: str) -> None:
        self.sampler.stage = name
        print(f"[bench] {time.strftime('%H:%M:%S')} {name}", flush=True)

    def need_saturation(self) -> float:
        if self.saturation is None:
            self.stage("saturation")
            found = find_saturation(self.stack.gateway_url, self.plan.saturation_s)
            self.saturation = found.rps
            self.saturation_note = (f"`{find_saturation.__module__}.find_saturation`, steps of "
                                    f"{self.plan.saturation_s:g} s: "
                                    f"{find_saturation.__doc__.strip().splitlines()[0].rstrip('.').lower()}; "
                                    f"best at {found.best.concurrency} clients")
            print(f"[bench] saturation {self.saturation:.1f} req/s", flush=True)
        return self.saturation

    def plot(self, name: str) -> str:
        return f"![{name}]({self.plot_dir.name}/{name}.png)"

    # -------------------------------------------------------- stages
    def memory(self) -> None:
        plan = self.plan
        self.stage("memory soak")
        # /api/demo/parallel, open loop: the soak runs at the rate it names. (The scenario mix cannot: its
        # timeout scenarios hold service-c's threads for 3 s each, and at 100 req/s they are all held.)
        records = measure.paced_parallel(self.stack.gateway_url, plan.soak_rate, plan.soak_s,
                                         f"bench-{self.run_id}-soak")
        self.after_soak = measure.memory_now(self.stack)
        ok = len(measure.answered_ok(records))
        latency = Distribution.of(measure.latencies_ms(records))
        self.soak_note = (f"Soak: `/api/demo/parallel` at {plan.soak_rate:g} req/s for {duration(plan.soak_s)}, "
                          f"open loop: {len(records)} requests, {measure.achieved_rps(records):.1f} req/s achieved, "
                          f"{ok} ({100 * ratio(ok, len(records)):.2f} %) answered 200, p50 {number(latency.p50)} ms, "
                          f"p99 {number(latency.p99)} ms.")

    def queryable(self) -> None:
        self.stage("queryable")
        shipped_wait = measure.shipped_decision_wait()
        store = lambda: make_store("jaeger", self.stack.store_url)  # noqa: E731
        found = measure.queryable_delays(self.stack.gateway_url, store, self.parallel["tree"],
                                         self.plan.queryable_samples, self.run_id)
        self.stage(f"queryable, decision wait {SHORT_DECISION_WAIT}")
        self.stack.restart_collector({"SAMPLING_DECISION_WAIT": SHORT_DECISION_WAIT})
        short = measure.queryable_delays(self.stack.gateway_url, store, self.parallel["tree"],
                                         self.plan.queryable_samples, f"{self.run_id}-short")
        self.stack.restart_collector({})
        plots.queryable_cdf(found.by_id_s, found.by_search_s, self.plot_dir / "queryable.png")
        rows = []
        for wait, figures in ((f"{shipped_wait} (shipped)", found), (SHORT_DECISION_WAIT, short)):
            for label, values in (("by id, trace complete", figures.by_id_s),
                                  ("by search (service + tag)", figures.by_search_s)):
                d = Distribution.of(values)
                rows.append([f"Jaeger v2, native, decision wait {wait}: {label}", str(d.count), number(d.p50, 2),
                             number(d.p95, 2), number(d.p99, 2), number(d.max, 2), "measured by this run"])
        documented = "documented, not measured by this run"
        rows += [["Tempo 2.9, compose: by id", "–", "wait + ~0.3", "–", "–", "–", documented],
                 ["Tempo 2.9, compose: by TraceQL search", "–", "wait + ≤ 1.5", "–", "–", "–", documented]]
        self.sections.append("\n".join([
            "## Response → queryable",
            "",
            f"{self.plan.queryable_samples} `/api/demo/parallel` requests, one at a time on an otherwise idle "
            "stack. From the moment each answer is read, two pollers run side by side (every 20 ms plus the "
            "query's own time, the figures' resolution): **by id** until `GET /api/v3/traces/<id>` returns the "
            "trace complete by the e2e suite's rule (the scenario's exact tree, no span missing its parent); "
            "**by search** until the search a user runs in Jaeger's UI (`GET /api/traces?service=…&tags="
            "{\"app.x_trace_id\": …}`, each service in turn, `tests/stores/jaeger.py`) lists the trace. "
            f"Polls that gave up after 30 s: {found.timeouts + short.timeouts}.",
            "",
            "Most of the delay is tail sampling's decision wait: the Collector holds a trace's spans "
            f"`SAMPLING_DECISION_WAIT` ({shipped_wait} as shipped) from its first span before it decides, so "
            "every span that can make the trace an error is there (README, Sampling). The same requests are "
            f"measured again with the Collector restarted at {SHORT_DECISION_WAIT} (what the e2e suite runs), "
            "which leaves the store's own delay.",
            "",
            markdown_table(["store, query", "n", "p50 s", "p95 s", "p99 s", "max s", "source"], rows),
            "",
            "Tempo (compose) is not run by this command (no Docker engine here). Measured once with real Tempo "
            "2.9.0 fed by the native stack: complete by id ~0.3 s after the spans reach it; TraceQL search found "
            "the trace ~3 s after, with the ingester then making a trace searchable once idle for "
            "`trace_idle_period` (2 s) and checking every `flush_check_period` (1 s). "
            "`observability/tempo/tempo.yaml` now sets 1 s and 500 ms, which bounds search at about 1.5 s after "
            "the spans arrive (not measured again here). The services export every 200 ms "
            "(`OTEL_BSP_SCHEDULE_DELAY`) and the Collector batches for up to 200 ms after its decision, in both "
            "modes.",
            "",
            self.plot("queryable"),
        ]))

    def latency(self) -> None:
        plan = self.plan
        self.stage("latency")
        records = measure.locust_mix(self.stack.gateway_url, plan.latency_rate, plan.latency_users, plan.latency_s,
                                     self.workdir, "latency")
        by_scenario: dict[str, list[float]] = defaultdict(list)
        designed: Counter = Counter()
        for record in records:
            by_scenario[record["scenario"]].append(record["elapsed_ms"])
            designed[record["scenario"]] += record["status"] == record["expect_status"]
        order = [name for name in scenario_names(self.scenarios) if name in by_scenario]
        plots.latency_per_scenario({name: by_scenario[name] for name in order}, self.plot_dir / "latency.png")
        rows = []
        for name in order:
            d = Distribution.of(by_scenario[name])
            rows.append([name, str(d.count), number(100 * ratio(designed[name], d.count)), number(d.p50),
                         number(d.p95), number(d.p99), number(d.max)])
        self.sections.append("\n".join([
            "## Latency per scenario",
            "",
            f"The scenario mix (each scenario in the proportion of its `load_weight` in `scenarios/scenarios.json`) "
            f"through Locust: `python -m load --rate {plan.latency_rate:g} --users {plan.latency_users} "
            f"--duration {plan.latency_s:g}s --record FILE`, {len(records)} requests. Latency is Locust's "
            "response time through the gateway. "
            "`failure-timeout` and `b-timeout` wait for the 2 s downstream timeout by design.",
            "",
            markdown_table(["scenario", "n", "designed status %", "p50 ms", "p95 ms", "p99 ms", "max ms"], rows),
            "",
            self.plot("latency"),
        ]))

    def throughput(self) -> None:
        saturation = self.need_saturation()
        self.stage("throughput")
        rates = [round(saturation * f, 1) for f in CURVE_FRACTIONS]
        points = measure.throughput_curve(self.stack.gateway_url, rates, self.plan.curve_s, self.run_id)
        plots.throughput_vs_offered(points, saturation, self.plot_dir / "throughput.png")
        rows = [[f"{p.offered:.0f} ({p.offered / saturation:.0%})", str(p.sent), str(p.ok), number(p.achieved),
                 number(p.latency.p50), number(p.latency.p99), number(p.latency.max)] for p in points]
        self.sections.append("\n".join([
            "## Throughput against offered rate",
            "",
            f"Saturation of `/api/demo/parallel`: **{saturation:.1f} req/s** ({self.saturation_note}). Then "
            f"`/api/demo/parallel` at fixed rates for {self.plan.curve_s:g} s each, open loop "
            f"(tests/chaos/load.py: request n leaves at start + n/rate whatever the answers, up to "
            f"{measure.LOAD_WORKERS} in flight, the rest queue in the client). Latency runs from each request's "
            "scheduled start, so time spent queued counts; achieved = 200 answers / (last answer − first start).",
            "",
            markdown_table(["offered req/s", "sent", "200", "achieved req/s", "p50 ms", "p99 ms", "max ms"], rows),
            "",
            self.plot("throughput"),
        ]))

    def completeness(self) -> None:
        saturation = self.need_saturation()
        # Room for every trace of both stages, so none is evicted before it is counted.
        shipped = measure.shipped_max_traces()
        capacity = max(shipped, round(1.5 * saturation * self.plan.completeness_s
                                      * sum(f for _, f in COMPLETENESS_FRACTIONS)) + 1000)
        self.stage("completeness store restart")
        self.stack.restart_store(capacity, self.workdir)
        results = []
        for label, fraction in COMPLETENESS_FRACTIONS:
            self.stage(f"completeness {label}")
            results.append(measure.completeness(self.stack, self.parallel["tree"], label.replace(" %", "pct"),
                                                round(saturation * fraction, 1), self.plan.completeness_s,
                                                self.plan.completeness_settle_s, self.run_id))
        self.stage("store restart")
        self.stack.restart_store(None, self.workdir)
        self.store_note = (f"Jaeger's samples in the completeness stages, where it ran with room for "
                           f"{capacity} traces, are left out of its peak.")
        rows = [[f"{label} of saturation", f"{r.rate:.1f}", f"{r.seconds:g}", str(r.sent), str(r.ok),
                 str(r.complete), number(r.percent, 2), str(r.all_spans), number(r.counted_in_s)]
                for (label, _), r in zip(COMPLETENESS_FRACTIONS, results)]
        keys = sorted({key for r in results for key in r.counters})
        counter_rows = [[f"`{key}`", *(number(r.counters.get(key, 0.0), 0) for r in results)] for key in keys]
        missing = [f"- {label}: {x}: {why[:200]}" for (label, _), r in zip(COMPLETENESS_FRACTIONS, results)
                   for x, why in sorted(r.missing.items())[:3]]
        self.sections.append("\n".join([
            "## Completeness under load",
            "",
            f"`/api/demo/parallel` at half and at 90 % of the saturation ({saturation:.1f} req/s), "
            f"{self.plan.completeness_s:g} s each, open loop, every request with a known X-Trace-ID. Afterwards "
            f"Jaeger is polled (at most {self.plan.completeness_settle_s:g} s) until every trace answered 200 is "
            "complete by the e2e suite's rule (tests/chaos/load.py `count_complete`). As shipped the store keeps "
            f"the last {shipped} traces (`max_traces`), which a stage may exceed: for them Jaeger "
            f"restarts empty with room for {capacity} (and as shipped afterwards).",
            "",
            markdown_table(["load", "req/s", "s", "sent", "200", "complete", "complete %",
                            "incomplete with every span", "counted in s"], rows),
            "",
            "*Incomplete with every span*: traces with all their spans in the store and no span missing its "
            "parent (the looser rule of `tests/support/store_waits.py`) whose tree still differs from the "
            "scenario's, e.g. the two calls of `parallel` did not overlap in time on a saturated machine: "
            "shape, not lost telemetry.",
            "",
            "The Collector's own counters over each stage (its telemetry port, `/metrics`; the difference "
            "between the readings before the load and after the count). The `otlp_http/trace-store` exporter "
            "sends to Jaeger; `debug` and `span_metrics` are the Collector's other exporters.",
            "",
            markdown_table(["counter, receiver or exporter", *(f"{label} of saturation"
                                                               for label, _ in COMPLETENESS_FRACTIONS)], counter_rows),
            *(["", "Incomplete traces (first 3 per stage):", *missing] if missing else []),
        ]))

    def tracing_cost(self) -> None:
        saturation = self.need_saturation()
        plan = self.plan
        rate = round(saturation * 0.5, 1)
        arms = []
        for pair in range(1, plan.pairs + 1):
            # ABBA: the order flips every pair, so a drift of the machine hits both sides alike.
            order = (True, False) if pair % 2 else (False, True)
            for traced in order:
                self.stage(f"tracing-cost {'traced' if traced else 'untraced'} {pair}")
                arms.append(measure.tracing_arm(self.stack, pair, traced, rate, plan.arm_s, plan.arm_saturation_s,
                                                self.run_id))
        self.stack.restart_services(True)  # leave the stack as every other stage expects it
        plots.tracing_cost(arms, self.plot_dir / "tracing_cost.png")
        rows = [[f"{arm.pair}: {'traced' if arm.traced else 'untraced'}", number(arm.throughput),
                 number(arm.latency.p50), number(arm.latency.p99), number(arm.cpu_ms_per_request, 2), str(arm.ok)]
                for arm in arms]

        def mean(traced: bool, value) -> float:
            values = [value(arm) for arm in arms if arm.traced == traced]
            return sum(values) / len(values) if values else float("nan")

        figures = (lambda a: a.throughput, lambda a: a.latency.p50, lambda a: a.latency.p99,
                   lambda a: a.cpu_ms_per_request)
        rows.append(["**traced / untraced**", *(f"**{number(ratio(mean(True, f), mean(False, f)), 2)}**"
                                                 for f in figures[:3]),
                     f"**{number(ratio(mean(True, figures[3]), mean(False, figures[3])), 2)}**", "–"])
        self.sections.append("\n".join([
            "## Cost of tracing",
            "",
            f"{plan.pairs} interleaved A/B pair(s) on the same build and the same running Collector, store and "
            f"gateway; only the three services restart between arms, traced (as shipped) or untraced "
            f"(`{' '.join(f'{k}={v}' for k, v in measure.UNTRACED_ENV.items())}`: no SDK in any service), and the "
            "order flips every pair (ABBA). Each arm: a few seconds of warm-up, the saturation throughput "
            f"({plan.arm_saturation_s:g} s, measured as above), then {plan.arm_s:g} s open loop at "
            f"{rate:.1f} req/s (half the traced saturation, the same for both sides) for p50/p99 and the "
            "whole stack's CPU per request: user + system time of every stack process and its workers "
            "(gateway, services, Collector, Jaeger; not the load generator), from /proc, over that window, "
            "divided by the 200 answers. The last row divides the means of each side.",
            "",
            markdown_table(["pair: arm", "saturation req/s", "p50 ms", "p99 ms", "stack CPU ms/request",
                            "200 answers"], rows),
            "",
            self.plot("tracing_cost"),
        ]))

    def memory_section(self) -> str:
        peaks = self.sampler.peaks(lambda name, stage: name == "jaeger" and stage.startswith("completeness"))
        plots.memory_over_time(self.sampler.samples, self.plot_dir / "memory.png")
        names = [name for name in START_ORDER if name in self.idle]
        rows = [[name, number(self.idle[name]), number(self.after_soak.get(name)), number(peaks.get(name))]
                for name in names]
        rows.append(["**all**", number(sum(self.idle.values())),
                     number(sum(self.after_soak.values()) if self.after_soak else None),
                     number(sum(peaks.values()))])
        return "\n".join([
            "## Memory",
            "",
            "Resident memory (VmRSS from /proc) of each process plus its direct children (gunicorn's and nginx's "
            f"workers). Idle: right after start-up, before any request. Peak: the highest of the samples taken "
            f"every {self.plan.memory_interval_s:g} s through the whole run (every stage; the tracing-cost stage "
            "restarts the services). The \"all\" peak adds each process's own peak. " + self.store_note,
            "",
            self.soak_note or "The soak stage did not run.",
            "",
            markdown_table(["process", "idle MiB", f"after {duration(self.plan.soak_s)} at "
                            f"{self.plan.soak_rate:g} req/s, MiB", "peak MiB"], rows),
            "",
            self.plot("memory"),
        ])


def render(args: argparse.Namespace, argv: list[str], facts: dict[str, str], run: Run, took_s: float) -> str:
    command = "make bench" if not argv else "make bench BENCH_ARGS='" + " ".join(argv) + "'"
    head = [
        "# Performance",
        "",
        "Generated by `benchmarks/report.py` (`make bench`); do not edit by hand, run it again. "
        "It starts the native stack (nginx → service-a/b/c → Collector → Jaeger v2), measures, and stops it. "
        "Why tuned settings have their values, and the figures behind them: [tuning-history.md](tuning-history.md).",
        "",
    ]
    if args.quick:
        head += ["> **Quick run (`--quick`)**: every stage ran for seconds instead of minutes. These figures show "
                 "that the tooling works; they are not the stack's performance.", ""]
    head += [markdown_table(["", ""], [[key, value] for key, value in
                                       {**facts, "command": f"`{command}`",
                                        "stages": ", ".join(args.stages),
                                        "run took": f"{took_s / 60:.1f} min"}.items()]),
             "",
             "The load generator runs on the same machine as the stack and shares its cores: every figure is of "
             "stack and load generator together, on this machine. Compare runs on the same machine only.",
             ""]
    body = list(run.sections)
    body.append(run.memory_section())
    return "\n".join(head) + "\n" + "\n\n".join(body) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    facts = machine()
    plot_dir = args.output.with_suffix("")
    plot_dir.mkdir(parents=True, exist_ok=True)
    stack = measure.BenchStack.from_repo()
    began = time.monotonic()
    try:
        with stopped_on_exit(stack):
            stack.build()
            stack.start(build_first=False)
            plan = QUICK if args.quick else FULL
            with tempfile.TemporaryDirectory(prefix="bench-") as workdir, \
                    measure.MemorySampler(stack, plan.memory_interval_s) as sampler:
                run = Run(args, stack, sampler, Path(workdir), plot_dir)
                for name in STAGES:  # always in this order: the soak first, on a fresh stack
                    if name in args.stages:
                        getattr(run, name.replace("-", "_"))()
                sampler.stage = "end"
        text = render(args, argv, facts, run, time.monotonic() - began)
        args.output.write_text(text)
        print(f"[bench] wrote {args.output} and {plot_dir}/*.png in {(time.monotonic() - began) / 60:.1f} min")
        return 0
    except (StartupError, subprocess.CalledProcessError) as error:
        print(f"report: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130

if __name__ == "__main__":
    sys.exit(main())

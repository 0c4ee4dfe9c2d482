"""Benchmark: saturation throughput of /api/demo/parallel, downstream timeouts
at a steady rate below it, CPU per request and memory, for one configuration
or several side by side.

Prints figures; asserts nothing. Run after a build (`make build`):

    python3 benchmarks/saturation.py                       # current vs previous, ~6 min
    python3 benchmarks/saturation.py --rounds 2            # ABAB, medians
    python3 benchmarks/saturation.py --configs current,untraced --no-ramp --steady-rate 200
    python3 benchmarks/saturation.py --configs current,previous --no-ramp --steady-seconds 0 \
        --soak-seconds 600 --soak-rate 100                 # memory after 10 min at 100 req/s
    python3 benchmarks/saturation.py --gateway http://127.0.0.1:8080   # a stack already running

What one measurement of a configuration does, through the gateway, with
Locust (benchmarks/saturation_load.py, which defines each load exactly):
1. saturation: a closed-loop ramp, K users back to back for --step-seconds
   with K growing until requests/s stops rising; the best step's requests/s.
2. steady: an open-loop load at --steady-fraction (0.9) of that saturation,
   or at --steady-rate, for --steady-seconds: statuses, downstream timeouts
   (docs/contract.md `results`), p50 / p99 / max latency, requests the client
   sent late and, when the benchmark started the stack, CPU ms per request
   of each process (/proc utime + stime, children included).
3. soak (only with --soak-seconds): a steady load at --soak-rate, resident
   memory (RSS) of every process sampled every 30 s, and PSS at the end (a
   sum of RSS counts pages shared by gunicorn's or nginx's processes twice).

Configurations (--configs; CONFIGS below) change the stack the benchmark
starts: `previous` is the stack before this benchmark's fixes, `untraced` and
`unexported` the cost of tracing; --define adds more. With --rounds N they run
alternately (ABAB...), each on a fresh stack, one stack at a time, and the
table shows medians and the ratio of the first configuration to the second.

benchmarks/report.py uses `find_saturation`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.processes import UNTRACED_ENV, cpu_seconds, pids, pss_mib, rss_mib, snapshot, stopped_on_exit  # noqa: E402
from tools.native.process import StartupError  # noqa: E402
from tools.native.settings import NATIVE, REPO, Ports  # noqa: E402
from tools.native.stack import NODE_FLAGS, NativeStack  # noqa: E402

LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
SOAK_SAMPLE_S = 30.0


@dataclass(frozen=True)
class Config:
    """What differs from the committed stack: environment added to every
    service, service-b's V8 flags, service-a built from another git revision
    (None: as committed)."""

    env: dict[str, str] = field(default_factory=dict)
    node_flags: tuple[str, ...] | None = None
    service_a_ref: str | None = None


# The revision before this benchmark's fixes: `--previous-ref` overrides it.
PREVIOUS_REF = "a96e169"
# `previous` restores what the fixes changed, so both are measured in one run.
PREVIOUS = Config(
    # service-c/gunicorn.conf.py: 2 workers x 4 threads before.
    {"GUNICORN_CMD_ARGS": "--workers 2 --threads 4"},
    # service-b: V8 sized its young generation from the host's memory.
    node_flags=(),
    # service-a/downstream.go: 16 idle connections per downstream host.
    service_a_ref=PREVIOUS_REF,
)
CONFIGS: dict[str, Config] = {
    "current": Config(),
    "previous": PREVIOUS,
    "untraced": Config(UNTRACED_ENV),
    # service-a and service-c record spans but export none; service-b then
    # records none (its SDK registers no tracer provider without an exporter).
    "unexported": Config({"OTEL_TRACES_EXPORTER": "none"}),
    "previous-untraced": dataclasses.replace(PREVIOUS, env={**PREVIOUS.env, **UNTRACED_ENV}),
}


# ---------------------------------------------------------------- load (Locust)
def locust_load(*argv: object):
    """Run benchmarks/saturation_load.py, yielding each JSON line it prints."""
    # Locust patches the standard library in its own process; nothing of ours leaks in.
    env = {key: value for key, value in os.environ.items() if key != "LOCUST_SKIP_MONKEY_PATCH"}
    with subprocess.Popen([sys.executable, "-m", "benchmarks.saturation_load", *map(str, argv)], cwd=REPO,
                          env=env, stdout=subprocess.PIPE, text=True) as load:
        try:
            yield from (json.loads(line) for line in load.stdout)
        except BaseException:  # Ctrl-C, or the reader stopped early
            load.terminate()
            raise
    if load.returncode:
        raise subprocess.CalledProcessError(load.returncode, load.args)


@dataclass
class Load:
    """One load's figures: a ramp step (`concurrency` users) or a steady load (`rate`)."""
    seconds: float
    requests: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]  # "none": no answer
    timeouts: dict[str, int]  # downstream -> calls that timed out
    concurrency: int = 0
    rate: float = 0.0
    late: int = 0  # requests that left over 100 ms after their slot (the client fell behind)
    cpu_ms_per_request: dict[str, float] = field(default_factory=dict)  # per process, and "total"

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def not_ok(self) -> int:
        return sum(count for status, count in self.statuses.items() if status != "200")


@dataclass
class Saturation:
    steps: list[Load]

    @property
    def best(self) -> Load:
        return max(self.steps, key=lambda s: s.rps)

    @property
    def rps(self) -> float:
        return self.best.rps


def find_saturation(gateway: str, step_seconds: float = 6.0, on_step=None) -> Saturation:
    """Ramp the closed-loop concurrency until requests/s stops rising."""
    steps = []
    for line in locust_load("ramp", _loopback(gateway), step_seconds):
        steps.append(Load(**line["step"]))
        if on_step:
            on_step(steps[-1])
    return Saturation(steps)


def steady_load(gateway: str, rate: float, seconds: float, processes: dict[str, int] | None = None) -> Load:
    """Open loop: request n leaves at start + n/rate for `seconds`."""
    for line in locust_load("steady", _loopback(gateway), rate, seconds):
        if "started" in line:
            cpu_before = snapshot(cpu_seconds, processes)
        else:
            cpu_after, steady = snapshot(cpu_seconds, processes), Load(**line["steady"])
    cpu = {name: (cpu_after.get(name, before) - before) * 1000 / max(1, steady.requests)
           for name, before in cpu_before.items()}
    steady.cpu_ms_per_request = {**cpu, "total": sum(cpu.values())} if cpu else {}
    return steady


def _loopback(gateway: str) -> str:
    if urllib.parse.urlsplit(gateway).hostname not in LOOPBACK_HOSTS:
        raise ValueError(f"traffic goes to loopback only, not {gateway}")
    return gateway


# ---------------------------------------------------------------- memory
@dataclass
class Soak:
    rate: float
    seconds: float
    samples: list[tuple[float, dict[str, float]]]  # (seconds since start, RSS MiB per process)
    steady: Load
    final_pss_mib: dict[str, float] = field(default_factory=dict)

    @property
    def final_mib(self) -> dict[str, float]:
        last = dict(self.samples[-1][1]) if self.samples else {}
        if last:
            last["total"] = sum(last.values())
        return last


def soak(gateway: str, rate: float, seconds: float, processes: dict[str, int]) -> Soak:
    """A steady load for `seconds`, resident memory sampled every 30 s and at the end."""
    samples: list[tuple[float, dict[str, float]]] = [(0.0, snapshot(rss_mib, processes))]
    stop = threading.Event()
    began = time.monotonic()

    def sample() -> None:
        while not stop.wait(SOAK_SAMPLE_S):
            samples.append((time.monotonic() - began, snapshot(rss_mib, processes)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        steady = steady_load(gateway, rate, seconds, processes)
    finally:
        stop.set()
        sampler.join()
    samples.append((time.monotonic() - began, snapshot(rss_mib, processes)))
    return Soak(rate, seconds, samples, steady, snapshot(pss_mib, processes))


# ---------------------------------------------------------------- one configuration
@dataclass
class Figures:
    config: str
    saturation: Saturation | None  # None: the ramp was skipped
    steady: Load | None
    memory_mib: dict[str, float]  # RSS at the end (after the soak, if any), per process; {} without processes
    pss_mib: dict[str, float] = field(default_factory=dict)  # PSS, the same moment
    soak: Soak | None = None


def measure(gateway: str, processes: dict[str, int] | None = None, *, step_seconds: float = 6.0,
            steady_fraction: float = 0.9, steady_seconds: float = 30.0, steady_rate: float | None = None,
            soak_seconds: float = 0.0, soak_rate: float = 100.0, ramp: bool = True, config: str = "",
            progress=None) -> Figures:
    """Saturation ramp, then a steady load at `steady_fraction` of it or at
    `steady_rate` (and a soak). Without the ramp only a steady_rate can be used."""
    say = progress or (lambda _line: None)
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy
    for _ in range(20):  # warm-up: connections, JIT, first spans exported
        with direct.open(_loopback(gateway) + "/api/demo/parallel", timeout=15) as answer:
            answer.read()
    saturation = None
    if ramp:
        saturation = find_saturation(gateway, step_seconds, on_step=lambda s: say(f"  [{config}] {step_line(s)}"))
        say(f"  [{config}] saturation {saturation.rps:.1f} req/s at concurrency {saturation.best.concurrency}")
    steady = None
    if steady_seconds > 0 and (steady_rate or saturation):
        steady = steady_load(gateway, steady_rate or steady_fraction * saturation.rps, steady_seconds, processes)
        say(f"  [{config}] {steady_line(steady)}")
    soaked = None
    if soak_seconds > 0 and processes:
        soaked = soak(gateway, soak_rate, soak_seconds, processes)
        say(f"  [{config}] soak {soak_rate:g} req/s {soak_seconds:g} s: "
            + " ".join(f"{n} {m:.0f}" for n, m in soaked.final_mib.items()) + " MiB")
    memory, pss = snapshot(rss_mib, processes), snapshot(pss_mib, processes)
    return Figures(config, saturation, steady, memory, pss, soaked)


def service_a_binary(ref: str) -> Path:
    """service-a built from git revision `ref` (its folder only), kept under .native/bench."""
    sha = subprocess.run(["git", "rev-parse", "--short=12", f"{ref}^{{commit}}"], cwd=REPO, check=True,
                         capture_output=True, text=True).stdout.strip()
    binary = NATIVE / "bench" / f"service-a-{sha}"
    if not binary.exists():
        with tempfile.TemporaryDirectory() as tree:
            archive = subprocess.run(["git", "archive", sha, "service-a"], cwd=REPO, check=True,
                                     capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
            subprocess.run(["go", "build", "-o", str(binary), "."], cwd=Path(tree) / "service-a", check=True)
    return binary


class ConfiguredStack(NativeStack):
    """The native stack with a configuration's changes to the services."""

    def __init__(self, ports: Ports, config: Config):
        super().__init__(ports)
        self.config = config
        self.service_a = service_a_binary(config.service_a_ref) if config.service_a_ref else None

    def _service_process_env(self, name: str) -> dict[str, str]:
        return {**super()._service_process_env(name), **self.config.env}

    def _service_command(self, name: str) -> list[str]:
        command = super()._service_command(name)
        if name == "service-a" and self.service_a:
            return [str(self.service_a)]
        if name != "service-b" or self.config.node_flags is None:
            return command
        return [command[0], *self.config.node_flags, *command[1 + len(NODE_FLAGS):]]


def measure_config(config: str, progress=None, **options) -> Figures:
    """Start the native stack with configuration `config` (CONFIGS), measure, stop."""
    base = NativeStack.from_repo()
    stack = ConfiguredStack(base.ports, CONFIGS[config])
    with stopped_on_exit(stack):
        stack.start(build_first=False)  # on failure it stops what it had started
        return measure(stack.gateway_url, pids(stack), config=config, progress=progress, **options)


# ---------------------------------------------------------------- printing
def _counts(counts: dict[str, int]) -> str:
    return " ".join(f"{k}x{v}" for k, v in counts.items()) or "-"


def step_line(step: Load) -> str:
    return (f"K={step.concurrency:<3} {step.rps:7.1f} req/s  p50 {step.p50_ms:7.1f} ms  p99 {step.p99_ms:7.1f} ms  "
            f"statuses {_counts(step.statuses)}  "
            f"timeouts B {step.timeouts['service-b']} C {step.timeouts['service-c']}")


def steady_line(steady: Load) -> str:
    cpu = f"  cpu {steady.cpu_ms_per_request['total']:.2f} ms/req" if steady.cpu_ms_per_request else ""
    return (f"steady {steady.rate:.1f} req/s x {steady.seconds:.0f} s: {steady.requests} sent, "
            f"statuses {_counts(steady.statuses)}, timeouts B {steady.timeouts['service-b']} "
            f"C {steady.timeouts['service-c']}, p50 {steady.p50_ms:.1f} p99 {steady.p99_ms:.1f} "
            f"max {steady.max_ms:.0f} ms, late {steady.late}{cpu}")


def _median(values: list[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return statistics.median(values) if values else math.nan


def print_table(results: dict[str, list[Figures]]) -> None:
    names, every = list(results), [f for runs in results.values() for f in runs]

    def row(label: str, value, combine=_median) -> tuple[str, list[float]]:
        return label, [combine([value(f) for f in results[n]]) for n in names]

    rows: list[tuple[str, list[float]]] = []
    if all(f.saturation for f in every):
        rows += [row("saturation req/s", lambda f: f.saturation.rps),
                 row("p50 ms at saturation", lambda f: f.saturation.best.p50_ms)]
    if all(f.steady for f in every):
        rows += [row("steady rate req/s", lambda f: f.steady.rate), row("steady p50 ms", lambda f: f.steady.p50_ms),
                 row("steady p99 ms", lambda f: f.steady.p99_ms),
                 row("steady not-200 (sum)", lambda f: f.steady.not_ok, sum),
                 row("steady B timeouts (sum)", lambda f: f.steady.timeouts["service-b"], sum),
                 row("steady C timeouts (sum)", lambda f: f.steady.timeouts["service-c"], sum)]
        rows += [row(f"cpu ms/req {p}", lambda f, p=p: f.steady.cpu_ms_per_request.get(p, math.nan))
                 for p in sorted({p for f in every for p in f.steady.cpu_ms_per_request})]
    processes = sorted({p for f in every for p in f.memory_mib})
    rows += [row(f"rss MiB {p}", lambda f, p=p: f.memory_mib.get(p, math.nan)) for p in processes]
    if processes:
        rows += [row("rss MiB total", lambda f: sum(f.memory_mib.values())),
                 row("pss MiB total", lambda f: sum(f.pss_mib.values()))]
    if not rows:
        return
    width = max(len(r[0]) for r in rows)
    ratio = len(names) >= 2
    header = f"{'':<{width}}  " + "  ".join(f"{n:>18}" for n in names) + (f"  {names[0] + '/' + names[1]:>20}"
                                                                          if ratio else "")
    print(f"\nmedians over rounds ({', '.join(f'{n}: {len(results[n])}' for n in names)})\n{header}")
    for label, values in rows:
        line = f"{label:<{width}}  " + "  ".join(f"{v:18.2f}" for v in values)
        if ratio:
            line += f"  {values[0] / values[1]:20.2f}" if values[1] and not math.isnan(values[1]) else f"  {'-':>20}"
        print(line)


def print_soak(figures: Figures) -> None:
    if not figures.soak:
        return
    print(f"\n[{figures.config}] resident memory (MiB) during {figures.soak.seconds:g} s at {figures.soak.rate:g} req/s"
          f" ({steady_line(figures.soak.steady)})")
    names = list(figures.soak.samples[0][1])
    print(f"  {'t s':>6}  " + "  ".join(f"{n:>10}" for n in names) + f"  {'total':>10}")
    for at, sample in figures.soak.samples:
        print(f"  {at:6.0f}  " + "  ".join(f"{sample.get(n, math.nan):10.1f}" for n in names)
              + f"  {sum(sample.values()):10.1f}")
    pss = figures.soak.final_pss_mib
    print(f"  {'PSS':>6}  " + "  ".join(f"{pss.get(n, math.nan):10.1f}" for n in names)
          + f"  {sum(pss.values()):10.1f}")


# ---------------------------------------------------------------- command line
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default="current,previous",
                        help=f"comma-separated configurations, side by side (known: {', '.join(CONFIGS)}; "
                             "default current,previous)")
    parser.add_argument("--rounds", type=int, default=1, help="measurements of each configuration, alternating")
    parser.add_argument("--step-seconds", type=float, default=6.0, help="length of one ramp step (default 6)")
    parser.add_argument("--steady-fraction", type=float, default=0.9,
                        help="steady rate as a fraction of the saturation (default 0.9)")
    parser.add_argument("--steady-seconds", type=float, default=30.0, help="0 skips the steady load (default 30)")
    parser.add_argument("--soak-seconds", type=float, default=0.0, help="memory soak length (default 0: none)")
    parser.add_argument("--soak-rate", type=float, default=100.0, help="memory soak rate, req/s (default 100)")
    parser.add_argument("--define", action="append", default=[], metavar="NAME:KEY=VALUE[;KEY=VALUE]",
                        help="one more configuration: the committed one with this environment added "
                             "(repeatable; then name it in --configs)")
    parser.add_argument("--previous-ref", default=PREVIOUS_REF,
                        help=f"git revision whose service-a the previous* configurations run (default {PREVIOUS_REF})")
    parser.add_argument("--steady-rate", type=float,
                        help="steady load at this many req/s instead of a fraction of the saturation "
                             "(compares CPU per request at one rate)")
    parser.add_argument("--no-ramp", dest="ramp", action="store_false",
                        help="skip the saturation ramp (then only --steady-rate and the soak run)")
    parser.add_argument("--gateway", help="measure this running gateway (loopback only) instead of starting "
                                          "the stack; no configurations, CPU or memory then")
    args = parser.parse_args()
    for definition in args.define:
        name, _, assignments = definition.partition(":")
        pairs = [a.partition("=") for a in assignments.split(";") if a]
        if not name or not pairs or any(not key or not eq for key, eq, _ in pairs):
            parser.error(f"--define {definition!r}: expected NAME:KEY=VALUE[;KEY=VALUE]")
        CONFIGS[name] = Config({key: value for key, _, value in pairs})
    args.configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = [c for c in args.configs if c not in CONFIGS]
    if unknown:
        parser.error(f"unknown configuration(s) {unknown}; known: {', '.join(CONFIGS)}")
    if args.gateway and urllib.parse.urlsplit(args.gateway).hostname not in LOOPBACK_HOSTS:
        parser.error("--gateway must point at 127.0.0.1 or localhost")
    if not args.ramp and not args.steady_rate and not args.soak_seconds:
        parser.error("--no-ramp needs --steady-rate or --soak-seconds")
    if args.rounds < 1 or args.step_seconds <= 0 or not 0 < args.steady_fraction <= 1:
        parser.error("--rounds at least 1, --step-seconds positive, --steady-fraction in (0, 1]")
    return args


def main() -> int:
    args = parse_args()
    for name, config in CONFIGS.items():
        if config.service_a_ref:
            CONFIGS[name] = dataclasses.replace(config, service_a_ref=args.previous_ref)
    options = dict(steady_rate=args.steady_rate, ramp=args.ramp, step_seconds=args.step_seconds,
                   steady_fraction=args.steady_fraction, steady_seconds=args.steady_seconds,
                   soak_seconds=args.soak_seconds, soak_rate=args.soak_rate)
    say = lambda line: print(line, flush=True)  # noqa: E731
    # A kill cleans up like Ctrl-C (measure_config always stops its stack).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)
    results: dict[str, list[Figures]] = {}
    try:
        if args.gateway:
            results["gateway"] = [measure(args.gateway.rstrip("/"), config="gateway", progress=say,
                                          **{**options, "soak_seconds": 0})]
        else:
            NativeStack.from_repo().build()
            for round_number in range(args.rounds):
                for config in args.configs:
                    say(f"round {round_number + 1}/{args.rounds}, configuration {config!r} "
                        f"({CONFIGS[config]})")
                    figures = measure_config(config, progress=say, **options)  # first: Ctrl-C leaves no empty entry
                    results.setdefault(config, []).append(figures)
    except (StartupError, subprocess.CalledProcessError) as error:
        print(f"saturation: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        if not results:
            return 130
    print_table(results)
    for figures in (f for runs in results.values() for f in runs):
        print_soak(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())

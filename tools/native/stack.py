"""The native stack as one object: build it, start it in order, stop it.

Start order follows the data path backwards, so nothing ever sends to a
process that is not listening yet: trace store, Collector, services, gateway.
Stop order is the reverse, so spans flushed by a stopping service still reach
the store.

One component can also be stopped and started on its own while the rest runs
(tools/native/control.py drives that for `python3 -m tools.native stop NAME`).
A component stopped that way is "held": the runner does not count its exit as
a crash. Any other exit still stops the whole stack.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from . import build, control, nginx, settings
from .process import ManagedProcess, StartupError
from .settings import BIN, LOGS, LOOPBACK, REPO, Ports

SERVICES = ("service-a", "service-b", "service-c")
START_ORDER = ("jaeger", "collector", *SERVICES, "gateway")
# service-b's V8 flags, as in its Dockerfile and `npm start` (service-b/README.md).
NODE_FLAGS = ("--max-semi-space-size=16", "--max-old-space-size=96")


class NativeStack:
    def __init__(self, ports: Ports, collector_overrides: dict[str, str] | None = None,
                 sampling_tier: bool = False, route_by_trace_id: bool = True):
        self.ports = ports
        # Variables the Collector gets on top of settings.collector_env and the
        # caller's environment (the test suites shorten the sampling decision wait).
        self.collector_overrides = dict(collector_overrides or {})
        self.processes: dict[str, ManagedProcess] = {}
        self.held: set[str] = set()  # stopped on purpose, not crashed
        # One lifecycle change at a time: a control request and the shutdown
        # must never stop or start the same process concurrently.
        self._lifecycle = threading.RLock()
        # sampling_tier: the production shape, a routing Collector in front of
        # the samplers named in .env (COLLECTOR_SAMPLER_<n>_*_PORT). Off by
        # default: one Collector receives and samples, which is lighter on a
        # laptop and on CI and decides on whole traces all the same.
        self.sampling_tier = sampling_tier
        # route_by_trace_id=False (tests/sampling only) leaves the routing tier
        # out: each service sends to a sampler of its own, as a plain
        # connection balancer would, to show what the tier prevents.
        self.route_by_trace_id = route_by_trace_id

    @property
    def components(self) -> tuple[str, ...]:
        """START_ORDER, and with the sampling tier the samplers before the
        `collector` that routes to them (they must listen first)."""
        samplers = tuple(f"collector-sampler-{n}" for n in range(1, len(self.samplers) + 1))
        if not samplers:
            return START_ORDER
        router = ("collector",) if self.route_by_trace_id else ()
        return ("jaeger", *samplers, *router, *START_ORDER[2:])

    @property
    def samplers(self) -> tuple:
        """The sampling Collectors' ports when the tier runs; else empty."""
        # A stack built without ports (tests of the lifecycle alone) has no tier.
        return self.ports.samplers if self.sampling_tier and self.ports is not None else ()

    @classmethod
    def from_repo(cls, collector_overrides: dict[str, str] | None = None,
                  sampling_tier: bool = False, route_by_trace_id: bool = True) -> "NativeStack":
        ports = Ports.from_dotenv(settings.read_dotenv())
        if sampling_tier and len(ports.samplers) < 2:
            raise ValueError("the sampling tier needs two COLLECTOR_SAMPLER_<n>_*_PORT sets in .env")
        return cls(ports, collector_overrides, sampling_tier, route_by_trace_id)

    # ------------------------------------------------------------ addresses
    @property
    def gateway_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.gateway}"

    @property
    def store_url(self) -> str:
        """Base URL of the trace store's query API (Jaeger)."""
        return f"http://{LOOPBACK}:{self.ports.jaeger_query}"

    def service_url(self, name: str) -> str:
        return settings.service_url(self.ports, name)

    def log_path(self, name: str) -> Path:
        return LOGS / f"{name}.log"

    # ------------------------------------------------------------ lifecycle
    def build(self) -> None:
        build.build_stack()

    def start(self, build_first: bool = True) -> None:
        if build_first:
            self.build()
        LOGS.mkdir(parents=True, exist_ok=True)
        for old in LOGS.glob("*.log"):
            old.unlink()
        try:
            for name in self.components:
                self.start_component(name)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> dict[str, int | None]:
        """Stop everything that runs, gateway first; returns exit codes."""
        codes = {}
        with self._lifecycle:
            for name in reversed(self.components):
                if name in self.processes:
                    codes[name] = self.stop_component(name)
        return codes

    def start_component(self, name: str, extra_env: dict[str, str] | None = None) -> None:
        """Start `name` and wait until it is healthy; a no-op if it runs.
        extra_env: variables over its usual environment for this start only
        (the e2e suite runs a service with a setting its run mode does not use)."""
        with self._lifecycle:
            current = self.processes.get(name)
            if current is not None and current.running:
                return
            process = self._describe(name)
            process.env = {**process.env, **(extra_env or {})}
            self.processes[name] = process
            process.start()
            self.held.discard(name)  # only now: a failed start leaves it held, not crashed

    def stop_component(self, name: str) -> int | None:
        """Stop `name` on purpose (it stays held until started); its exit code."""
        with self._lifecycle:
            process = self.processes.get(name)
            if process is None:
                return None
            self.held.add(name)  # before the signal, so its exit is never seen as a crash
            return process.stop()

    def crashed(self) -> list[str]:
        """Components that exited without being stopped on purpose."""
        return [name for name, process in list(self.processes.items())
                if name not in self.held and not process.running]

    def status(self) -> dict[str, str]:
        states = {}
        for name in self.components:
            process = self.processes.get(name)
            if process is not None and process.running:
                states[name] = "running"
            elif name in self.held:
                states[name] = "stopped"
            elif process is None or process.popen is None:
                states[name] = "not started"
            else:
                states[name] = f"exited {process.popen.returncode}"
        return states

    # ------------------------------------------------------------ processes
    def _describe(self, name: str) -> ManagedProcess:
        p = self.ports
        if name == "jaeger":
            return ManagedProcess(
                name, [str(BIN / "jaeger"), "--config", str(REPO / "tools/native/jaeger.yaml")],
                REPO, settings.jaeger_env(p), f"http://{LOOPBACK}:{p.jaeger_health}/status",
                self.log_path(name),
                [p.jaeger_otlp_grpc, p.jaeger_otlp_http, p.jaeger_query, p.jaeger_query_grpc, p.jaeger_health],
            )
        if name.startswith("collector-sampler-"):
            index = int(name.rpartition("-")[2]) - 1
            s = p.samplers[index]
            return ManagedProcess(
                name, [str(BIN / "otelcol-demo"), "--config", str(REPO / "observability/otel-collector.yaml")],
                REPO, {**settings.sampler_env(p, index), **self.collector_overrides},
                f"http://{LOOPBACK}:{s.health}/", self.log_path(name),
                [s.otlp_grpc, s.otlp_http, s.health, s.prometheus, s.telemetry],
            )
        if name == "collector" and self.samplers:
            return ManagedProcess(
                name, [str(BIN / "otelcol-demo"), "--config", str(REPO / "observability/otel-collector-routing.yaml")],
                REPO, settings.routing_env(p), f"http://{LOOPBACK}:{p.collector_health}/", self.log_path(name),
                [p.collector_otlp_grpc, p.collector_otlp_http, p.collector_health, p.collector_telemetry],
            )
        if name == "collector":
            return ManagedProcess(
                name, [str(BIN / "otelcol-demo"), "--config", str(REPO / "observability/otel-collector.yaml")],
                REPO, {**settings.collector_env(p), **self.collector_overrides},
                f"http://{LOOPBACK}:{p.collector_health}/",
                self.log_path(name),
                [p.collector_otlp_grpc, p.collector_otlp_http, p.collector_health, p.collector_prometheus,
                 p.collector_telemetry],
            )
        if name in SERVICES:
            return ManagedProcess(
                name, self._service_command(name), REPO / name, self._service_process_env(name),
                f"{self.service_url(name)}/health", self.log_path(name), [p.services[name]],
            )
        if name == "gateway":
            nginx_binary = build.nginx_binary()
            if nginx_binary is None:
                raise StartupError("nginx is not installed; run `make build` first")
            main = nginx.prepare(p)
            return ManagedProcess(
                name, nginx.command(nginx_binary, main), REPO, {"TZ": "UTC"},
                f"{self.gateway_url}/health",
                # nginx writes its JSON access log itself; this file gets only
                # what nginx prints outside of it (normally nothing).
                LOGS / "gateway-stdout.log", [p.gateway],
                # SIGQUIT is nginx's graceful shutdown: finish open requests.
                stop_signal=signal.SIGQUIT,
            )
        raise ValueError(f"unknown component {name!r}")

    def _service_command(self, name: str) -> list[str]:
        if name == "service-a":
            return [str(BIN / "service-a")]
        if name == "service-b":
            node = settings.NODE_HOME / "bin" / "node"
            return [str(node), *NODE_FLAGS, "--require", "./src/instrumentation.js", "src/server.js"]
        return [str(settings.SERVICE_C_VENV / "bin" / "gunicorn"), "-c", "gunicorn.conf.py"]

    def _service_process_env(self, name: str) -> dict[str, str]:
        env = settings.service_env(self.ports, name)
        if self.samplers and not self.route_by_trace_id:
            sampler = self.ports.samplers[SERVICES.index(name) % len(self.ports.samplers)]
            env["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://{LOOPBACK}:{sampler.otlp_http}"
        if name == "service-b":
            env.update(build.node_path_env())
        return env


def describe_endpoints(stack: NativeStack) -> str:
    p = stack.ports
    rows = [
        ("gateway", stack.gateway_url, "try /api/demo/parallel"),
        *[(name, stack.service_url(name), "direct; POST /test for W3C conformance") for name in SERVICES],
        ("collector OTLP", f"grpc {LOOPBACK}:{p.collector_otlp_grpc}, http {LOOPBACK}:{p.collector_otlp_http}", ""),
        ("span metrics", ", ".join(f"http://{LOOPBACK}:{port}/metrics"
                                   for port in [s.prometheus for s in stack.samplers] or [p.collector_prometheus]),
         "Prometheus format" + (", one per sampler: sum them" if stack.samplers else "")),
        ("Jaeger API", f"{stack.store_url}/api/v3/traces/<trace id>", "trace store (Tempo's stand-in; no UI in this build)"),
        ("logs", str(LOGS), "one file per process"),
    ]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"  {name:<{width}}  {where}  {note}".rstrip() for name, where, note in rows)


def _interrupt(signum: int, _frame) -> None:
    """SIGINT, SIGTERM and SIGHUP all stop the stack. The children run in their
    own sessions, so a runner killed by a default action would leave them
    running and holding the ports. SIGINT is named too: a shell without job
    control starts background commands with SIGINT ignored, and Python then
    keeps it ignored instead of raising KeyboardInterrupt."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main_up(sampling_tier: bool = False) -> int:
    """`make up`: build, start, print addresses, run until Ctrl-C, SIGTERM or SIGHUP."""
    stack = NativeStack.from_repo(sampling_tier=sampling_tier)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    interrupted = False
    controls = control.ControlServer(stack)
    try:
        stack.start()  # on failure or interrupt it stops what it had started
        controls.start()
        print("[native] stack is up:\n" + describe_endpoints(stack) + "\n[native] Ctrl-C stops it; "
              "`python3 -m tools.native stop|start|restart NAME` controls one part.", flush=True)
        while not (dead := stack.crashed()):
            time.sleep(0.5)
        print(f"[native] stopped unexpectedly: {', '.join(dead)}; see {LOGS}", file=sys.stderr)
    except (StartupError, subprocess.CalledProcessError, control.ControlError) as error:
        print(f"[native] {error}", file=sys.stderr)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        # A second Ctrl-C must not cut the shutdown short and orphan children.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        controls.close()  # no control request may start anything from here on
        print("[native] stopping ...", flush=True)
        codes = stack.stop()
        print("[native] exit codes: " + ", ".join(f"{n}={c}" for n, c in codes.items()), flush=True)
    return 0 if interrupted and all(code == 0 for code in codes.values()) else 1

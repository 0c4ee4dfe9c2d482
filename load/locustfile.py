"""Locust users that send the scenarios of scenarios/scenarios.json through
the gateway, in the mix of their `load_weight` fields.

Run by `make load` (load/__main__.py, headless) and by the compose profile
`load` (the official Locust image, web UI). Options of its own, beside Locust's:

    --rate     total requests per second (env LOCUST_RATE); --users bounds how
               many are in flight at once
    --passes   stop after this many passes through the mix (0: no limit)
    --record   write one JSON line per request to this file (the e2e suite
               finds every request's trace by it)

Every request is a trace of its own: it carries a fresh X-Trace-ID and no
trace context, and passes only if it ends with its scenario's designed status.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import gevent
from locust import HttpUser, events, task
from locust.exception import StopUser

# The repository root (natively) or the folder the compose service mounts
# load/, tools/ and scenarios/ under: load.* and tools.* import from there.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from load.mix import Pacer, Schedule, new_x_trace_id, request_headers  # noqa: E402
from load.summary import failures_from_stats, format_summary, rows_from_stats  # noqa: E402
from tools.scenario_table import load_scenarios, scenario_names  # noqa: E402

# A request gets this long to answer; the slowest scenarios answer after the
# services' 2 s downstream timeout.
REQUEST_TIMEOUT_S = 15.0


@events.init_command_line_parser.add_listener
def add_options(parser) -> None:
    parser.add_argument("--rate", type=float, default=10.0, env_var="LOCUST_RATE",
                        help="total requests per second over all users (default 10)")
    parser.add_argument("--passes", type=int, default=0, env_var="LOCUST_PASSES",
                        help="stop after this many passes through the scenario mix; 0: no limit (default)")
    parser.add_argument("--record", default="", include_in_web_ui=False,
                        help="write one JSON line per request (scenario, X-Trace-ID, status, latency) to this file")


@dataclass
class Run:
    """What one test run (start to stop) shares between its users."""
    schedule: Schedule
    pacer: Pacer
    record: IO[str] | None
    quitting: bool = False


_run: Run | None = None
_stats = None  # the environment's request statistics, for the summary at quit


@events.init.add_listener
def keep_stats(environment, **_kwargs) -> None:
    global _stats
    _stats = environment.stats


@events.test_start.add_listener
def start_run(environment, **_kwargs) -> None:
    global _run
    options = environment.parsed_options
    record = open(options.record, "w", encoding="utf-8") if options.record else None  # noqa: SIM115 - closed at test_stop
    _run = Run(Schedule(load_scenarios(), options.passes), Pacer(options.rate), record)


@events.test_stop.add_listener
def stop_run(**_kwargs) -> None:
    if _run is not None and _run.record is not None:
        _run.record.close()


@events.quit.add_listener
def print_summary(**_kwargs) -> None:
    """After Locust's own tables: one line per scenario, in the table's order."""
    rows, total = rows_from_stats(_stats, scenario_names(load_scenarios()))
    print(format_summary(rows, total, failures_from_stats(_stats)), flush=True)


class ScenarioUser(HttpUser):
    """Sends the next scenario of the shared schedule, at the shared pace."""

    def wait_time(self) -> float:
        return _run.pacer.delay()

    def on_start(self) -> None:
        # The first request waits for its start like every other one, so
        # spawning users does not begin with a burst.
        gevent.sleep(_run.pacer.delay())

    @task
    def send_next_scenario(self) -> None:
        scenario = _run.schedule.next()
        if scenario is None:
            self._stop_run()
        x_trace_id = new_x_trace_id()
        expected = scenario["expect_status"]
        with self.client.get(scenario["path"], name=scenario["name"], headers=request_headers(scenario, x_trace_id),
                             timeout=REQUEST_TIMEOUT_S, allow_redirects=False, catch_response=True) as response:
            status = response.status_code  # 0: no answer (connection error or timeout)
            echoed = response.headers.get("X-Trace-ID")
            if status != expected:
                response.failure(f"status {status}, expected {expected}")
            elif echoed != x_trace_id:
                response.failure(f"X-Trace-ID came back as {echoed!r}")
            else:
                response.success()
            self._record(scenario, x_trace_id, status, response.headers.get("traceresponse", ""),
                         response.request_meta["response_time"])

    def _record(self, scenario: dict, x_trace_id: str, status: int, traceresponse: str, elapsed_ms: float) -> None:
        if _run.record is None:
            return
        # elapsed_ms is Locust's own response time: the latency figures of benchmarks/report.py.
        line = {"scenario": scenario["name"], "x_trace_id": x_trace_id, "status": status,
                "expect_status": scenario["expect_status"], "traceresponse": traceresponse,
                "elapsed_ms": round(elapsed_ms, 2)}
        _run.record.write(json.dumps(line) + "\n")
        _run.record.flush()

    def _stop_run(self) -> None:
        """The last pass is sent: end the run once the requests in flight are
        answered (the runner waits for them up to --stop-timeout)."""
        if not _run.quitting:
            _run.quitting = True
            gevent.spawn(self.environment.runner.quit)
        raise StopUser()

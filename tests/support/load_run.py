"""The load generator (`python -m load`, as `make load` runs it) driven from a
test: a headless run in a child process that records one JSON line per request
(scenario, X-Trace-ID, status, traceresponse), so every request's trace can be
found and counted afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tools.native.settings import REPO


@dataclass(frozen=True)
class LoadRun:
    result: subprocess.CompletedProcess
    sent_at: float  # epoch seconds, for store searches
    requests: list[dict]  # the run's record: one line per request

    @staticmethod
    def otel_trace_id(request: dict) -> str:
        """The trace id from the request's traceresponse header (00-<trace id>-<span id>-<flags>)."""
        parts = request["traceresponse"].split("-")
        return parts[1] if len(parts) == 4 else ""

    def describe(self) -> str:
        return (f"exit {self.result.returncode}\nstdout (end):\n{self.result.stdout[-3000:]}\n"
                f"stderr (end):\n{self.result.stderr[-3000:]}")


class LoadGenerator:
    """One run of the load generator in the background; finish() waits for it."""

    def __init__(self, gateway_url: str, record: Path, *, rate: str, users: str, passes: str, duration: str):
        self.record = record
        self.sent_at = time.time() - 1  # margin for clock granularity in the store's search
        # The run gets Locust's patched standard library; nothing of this test process's.
        environment = {name: value for name, value in os.environ.items() if name != "LOCUST_SKIP_MONKEY_PATCH"}
        self.argv = [sys.executable, "-m", "load", "--host", gateway_url, "--rate", rate, "--users", users,
                     "--passes", passes, "--duration", duration, "--record", str(record)]
        self.process = subprocess.Popen(self.argv, cwd=REPO, env=environment, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def finish(self, timeout: float) -> LoadRun:
        try:
            stdout, stderr = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            stdout, stderr = self.process.communicate()
        result = subprocess.CompletedProcess(self.argv, self.process.returncode, stdout, stderr)
        lines = self.record.read_text().splitlines() if self.record.exists() else []
        return LoadRun(result, self.sent_at, [json.loads(line) for line in lines])


def run_load(gateway_url: str, record: Path, *, rate: str, users: str, passes: str, duration: str,
             timeout: float) -> LoadRun:
    return LoadGenerator(gateway_url, record, rate=rate, users=users, passes=passes,
                         duration=duration).finish(timeout)

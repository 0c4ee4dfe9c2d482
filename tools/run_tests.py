"""The test command (`make test`): install what is missing, then run every check.
With --chaos (`make chaos`) it runs the chaos suite (tests/chaos) instead.

Stages run in order and each prints its own output; a failing check stage
does not stop the ones after it, so one run shows every problem. Installing
and building do stop the run, since nothing after them could pass.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.native import build, settings  # noqa: E402
from tools.native.nginx import TEMPLATE, prepare as prepare_nginx  # noqa: E402
from tools.native.settings import BIN, REPO  # noqa: E402

VENV = REPO / ".venv"
VENV_PYTHON = VENV / "bin" / "python"


def run(cmd: list[str], cwd: Path = REPO, env: dict[str, str] | None = None) -> None:
    print(f"$ {' '.join(map(str, cmd))}", flush=True)
    subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})}, check=True)


def bootstrap_tooling() -> None:
    requirements = REPO / "requirements-dev.txt"
    fingerprint = requirements.read_text() + sys.version

    def install() -> None:
        if not VENV_PYTHON.exists():
            run([sys.executable, "-m", "venv", str(VENV)])
        run([str(VENV_PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "-r", str(requirements)])

    build.run_once("tooling-venv", fingerprint, [VENV_PYTHON], install)


def unit_service_a() -> None:
    run(["go", "vet", "./..."], cwd=REPO / "service-a")
    run(["go", "test", "-count=1", "./..."], cwd=REPO / "service-a")


def unit_service_b() -> None:
    run(["node", "--test"], cwd=REPO / "service-b", env=build.node_path_env())


def unit_service_c() -> None:
    run([str(settings.SERVICE_C_VENV / "bin" / "python"), "-m", "pytest", "-q", "tests"], cwd=REPO / "service-c")


def validate_native_configs() -> None:
    """The Collector and nginx parse their shared configs exactly as they will run them."""
    ports = settings.Ports.from_dotenv(settings.read_dotenv())
    run([str(BIN / "otelcol-demo"), "validate", "--config", "observability/otel-collector.yaml"],
        env=settings.collector_env(ports))
    routing = settings.routing_env(ports)
    if not ports.samplers:  # no tier in .env: any one backend shows the file parses
        routing["COLLECTOR_ROUTING_RESOLVER"] = f"{{static: {{hostnames: [{settings.LOOPBACK}:4317]}}}}"
    run([str(BIN / "otelcol-demo"), "validate", "--config", "observability/otel-collector-routing.yaml"],
        env=routing)
    main = prepare_nginx(ports)
    nginx = build.nginx_binary()
    run([nginx, "-t", "-q", "-p", str(main.parent), "-e", "/dev/stderr", "-c", str(main)])
    print(f"{TEMPLATE.relative_to(REPO)} renders and passes nginx -t")


def pytest_suite() -> None:
    run([str(VENV_PYTHON), "-m", "pytest", "tests"])


def sampling_suite() -> None:
    run([str(VENV_PYTHON), "-m", "pytest", "tests/sampling", "-m", "sampling"])


def chaos_suite() -> None:
    # -s: each fault prints its figures (sent, complete, missing, recovery).
    run([str(VENV_PYTHON), "-m", "pytest", "-s", "tests/chaos", "-m", "chaos"])


@dataclass
class Stage:
    name: str
    action: Callable[[], None]
    required: bool  # a failure here makes every later stage pointless


STAGES = [
    Stage("install test tooling", bootstrap_tooling, required=True),
    Stage("install and build the native stack", build.build_all, required=True),
    Stage("unit tests: service-a (go test)", unit_service_a, required=False),
    Stage("unit tests: service-b (node --test)", unit_service_b, required=False),
    Stage("unit tests: service-c (pytest)", unit_service_c, required=False),
    Stage("validate Collector and nginx configs", validate_native_configs, required=False),
    Stage("pytest tests/ (static checks, e2e on the native stack)", pytest_suite, required=False),
    # Its own stack (baseline 0 %), started once the e2e stack has stopped.
    Stage("pytest tests/sampling (tail sampling at a 0 % baseline)", sampling_suite, required=False),
]

# `make chaos` (--chaos): faults under load on the native stack, minutes long.
CHAOS_STAGES = [
    *STAGES[:2],
    Stage("pytest tests/chaos (faults under load on the native stack)", chaos_suite, required=False),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chaos", action="store_true", help="the chaos suite instead (make chaos)")
    stages = CHAOS_STAGES if parser.parse_args().chaos else STAGES
    results: list[tuple[str, bool, float]] = []
    for stage in stages:
        print(f"\n=== {stage.name}", flush=True)
        started = time.monotonic()
        try:
            stage.action()
            ok = True
        except (subprocess.CalledProcessError, SystemExit, OSError) as error:
            print(f"!!! {stage.name} failed: {error}", flush=True)
            ok = False
        results.append((stage.name, ok, time.monotonic() - started))
        if not ok and stage.required:
            break

    print("\n=== summary")
    for name, ok, seconds in results:
        print(f"  {'ok  ' if ok else 'FAIL'}  {seconds:7.1f}s  {name}")
    passed = sum(ok for _, ok, _ in results)
    failed = len(stages) - passed
    print(f"stages: {passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""CI's compose stage: `make compose-check` on a machine that has a Docker
engine and every pinned image but Grafana's; elsewhere one line saying why it
did not run. An engine that is installed but stopped (CI runs after the session
that started it has ended) is started from ../shared/standins and stopped again.

    .venv/bin/python -m tools.compose_check.ci
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from tools.native.settings import REPO

STANDINS = REPO.parent / "shared" / "standins"
STANDINS_HOME = Path(os.environ.get("STANDINS_HOME", Path.home() / ".cache" / "standins"))
# The only pinned image a machine without a registry may lack (compose-check reports its checks as not run).
ALLOWED_MISSING = ("grafana/grafana:",)


def engine_answers() -> bool:
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


def missing_images() -> list[str]:
    result = subprocess.run([sys.executable, str(STANDINS / "missing.py"), str(REPO)], capture_output=True, text=True)
    return [line.split()[1] for line in result.stdout.splitlines() if line.startswith("MISSING")]


@contextmanager
def running_engine(stage: str) -> Iterator[bool]:
    """Whether a Docker engine answers, starting an installed one that is not
    running (and stopping it again after); says in one line why not."""
    started_here = False
    if not engine_answers():
        if not (STANDINS / "engine.sh").is_file() or not (STANDINS_HOME / "bin" / "dockerd").is_file():
            print(f"{stage}: not run: no Docker engine on this machine (../shared/standins/README.md builds one)")
            yield False
            return
        subprocess.run(["bash", str(STANDINS / "engine.sh"), "start"], check=True)
        started_here = True
    try:
        if not engine_answers():
            print(f"{stage}: FAILED: the Docker engine did not answer after engine.sh start")
            raise SystemExit(1)
        yield True
    finally:
        if started_here:
            subprocess.run(["bash", str(STANDINS / "engine.sh"), "stop"])


def main() -> int:
    with running_engine("compose stage") as running:
        if not running:
            return 0
        lacking = [image for image in missing_images() if not image.startswith(ALLOWED_MISSING)]
        if lacking:
            print(f"compose stage: not run: images not on this machine: {', '.join(lacking)} "
                  "(../shared/standins/images.sh builds them)")
            return 0
        return subprocess.run(["make", "compose-check", "COMPOSE_CHECK_ARGS=--ci"], cwd=REPO).returncode


if __name__ == "__main__":
    sys.exit(main())

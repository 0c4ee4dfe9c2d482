"""CI's Kubernetes stage: `make kube-check` on a machine with the cluster kit
(../shared/kube, built), a Docker engine for the images and the chart sources;
elsewhere one line saying why it did not run. An engine that is installed but
stopped is started first (before the cluster: up.sh keeps its iptables rules
only if Docker's come first) and stopped again after.

    .venv/bin/python -m tools.kube_check.ci
"""

from __future__ import annotations

import subprocess
import sys

from tools.compose_check.ci import STANDINS, STANDINS_HOME, engine_answers
from tools.native.settings import REPO

from .run import prerequisites


def main() -> int:
    started_here = False
    if not engine_answers():
        if not (STANDINS_HOME / "bin" / "dockerd").is_file():
            print("kube stage: not run: no Docker engine on this machine to build the images "
                  "(../shared/standins/README.md builds one)")
            return 0
        subprocess.run(["bash", str(STANDINS / "engine.sh"), "start"], check=True)
        started_here = True
    try:
        why = prerequisites()
        if why:
            print(f"kube stage: not run: {why}")
            return 0
        return subprocess.run(["make", "kube-check"], cwd=REPO).returncode
    finally:
        if started_here:
            subprocess.run(["bash", str(STANDINS / "engine.sh"), "stop"])


if __name__ == "__main__":
    sys.exit(main())

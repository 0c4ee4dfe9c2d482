"""CI's Kubernetes stage: `make kube-check` on a machine with the cluster kit
(../shared/kube, built), a Docker engine for the images and the chart sources;
elsewhere one line saying why it did not run. An engine that is installed but
stopped is started first (before the cluster: up.sh keeps its iptables rules
only if Docker's come first) and stopped again after.

    .venv/bin/python -m tools.kube_check.ci
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tools.compose_check.ci import running_engine
from tools.native.settings import REPO

from .run import prerequisites

BUDGET_S = 40 * 60  # CI's whole run (.ci/run exports CI_STARTED, epoch seconds)
STAGE_S = 9 * 60  # `make kube-check KUBE_CHECK_ARGS=--ci` takes about 6 min on a 2-core machine (docs/kubernetes.md)


def main() -> int:
    if "CI_STARTED" in os.environ:
        left = BUDGET_S - (time.time() - float(os.environ["CI_STARTED"]))
        if left < STAGE_S:
            print(f"kube stage: not run: {left / 60:.0f} min left of CI's {BUDGET_S // 60}-minute budget, the stage "
                  f"takes up to {STAGE_S // 60} (`make kube-check` runs it)")
            return 0
    with running_engine("kube stage") as running:
        if not running:
            return 0
        why = prerequisites()
        if why:
            print(f"kube stage: not run: {why}")
            return 0
        return subprocess.run(["make", "kube-check", "KUBE_CHECK_ARGS=--ci"], cwd=REPO).returncode


if __name__ == "__main__":
    sys.exit(main())

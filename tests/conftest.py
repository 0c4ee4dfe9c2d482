"""Suite-wide selection rules.

Every test under tests/e2e/ carries the `e2e` marker, so `-m "not e2e"` runs
the checks that need no stack. The chaos and sampling suites start stacks of
their own and run for minutes: they are collected only when `-m` names them
(`-m chaos`), so no other marker expression pulls them in by accident."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest

E2E_DIR = Path(__file__).parent / "e2e"
OPT_IN_MARKERS = ("chaos", "sampling")


def pytest_configure(config: pytest.Config) -> None:
    # A kill (a cancelled CI job, `timeout`, a closed terminal) ends the run as
    # Ctrl-C does, so the fixtures still stop the stacks they started; by default
    # pytest would die at once and leave them running, holding their ports.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.default_int_handler)


def named_in(expression: str, marker: str) -> bool:
    """Whether a -m expression asks for `marker` (not merely excludes it)."""
    return re.search(rf"(?<!not )\b{marker}\b", expression) is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)
    expression = config.getoption("markexpr") or ""
    unasked = [item for item in items
               if any(item.get_closest_marker(m) and not named_in(expression, m) for m in OPT_IN_MARKERS)]
    if unasked:
        config.hook.pytest_deselected(items=unasked)
        items[:] = [item for item in items if item not in set(unasked)]

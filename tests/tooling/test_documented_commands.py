"""Every pytest command the README, tests/README.md and pytest.ini print with a
marker expression collects what it says: no suite that starts a stack of its
own unless the expression names it, and no e2e test under `not e2e`."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest

from tests.conftest import named_in
from tools.native.settings import REPO

DOCUMENTS = ("README.md", "tests/README.md", "pytest.ini")
_COMMAND = re.compile(r"python -m pytest ((?:[-\w./]+\s+)*?-m (?:\"[^\"]+\"|[\w-]+)(?:\s+[-\w./]+)*)")
# folder of the suite -> its marker
SUITES = {"tests/e2e/": "e2e", "tests/chaos/": "chaos", "tests/sampling/": "sampling"}


def documented() -> list[tuple[str, list[str]]]:
    found = []
    for name in DOCUMENTS:
        for match in _COMMAND.finditer((REPO / name).read_text()):
            found.append((name, shlex.split(match[1].strip())))
    return found


def test_the_documents_print_marker_commands():
    assert len(documented()) >= 3, documented()


@pytest.mark.parametrize(("document", "args"), documented(), ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_documented_command_collects_what_it_says(document, args):
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, f"{document}: pytest {' '.join(args)}\n{result.stdout[-2000:]}{result.stderr[-1000:]}"
    expression = args[args.index("-m") + 1]
    collected = [line for line in result.stdout.splitlines() if "::" in line]
    assert collected, f"{document}: pytest {' '.join(args)} collects nothing"
    for folder, marker in SUITES.items():
        wanted = named_in(expression, marker) or (marker == "e2e" and "e2e" not in expression)
        stray = [test for test in collected if test.startswith(folder)]
        assert wanted or not stray, f"{document}: -m {expression!r} collects {len(stray)} test(s) of {folder}"

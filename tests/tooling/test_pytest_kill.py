"""A killed test run still tears down its fixtures (tests/conftest.py), so no
native stack outlives it holding the ports the next run needs."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.polling import poll_until

REPO = Path(__file__).resolve().parents[2]

A_LONG_TEST = '''
import threading
from pathlib import Path

import pytest

@pytest.fixture
def stack(tmp_path_factory):
    marks = Path({marks!r})
    (marks / "started").touch()
    yield
    (marks / "stopped").touch()

def test_runs_until_killed(stack):
    threading.Event().wait(120)
'''


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=lambda s: signal.Signals(s).name)
def test_a_killed_run_tears_down_its_fixtures(tmp_path, signum):
    (tmp_path / "test_long.py").write_text(A_LONG_TEST.format(marks=str(tmp_path)))
    run = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest",
                            "--rootdir", str(tmp_path), str(tmp_path / "test_long.py")],
                           cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        poll_until(lambda: (tmp_path / "started").exists(), timeout=60, describe="the fixture started")
        run.send_signal(signum)
        output, _ = run.communicate(timeout=60)
    finally:
        run.kill()
    assert (tmp_path / "stopped").exists(), f"the fixture was not torn down:\n{output}"

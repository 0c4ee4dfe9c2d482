"""observability/readiness/wait-until-ready.sh, run with this machine's sh and
wget against local servers: it marks the stack ready only once every URL
answered, in time, and otherwise exits 1 naming the URL that did not."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.support.polling import NotYet, poll_until
from tests.support.recording_server import RecordingServer, Reply

SCRIPT = Path(__file__).resolve().parents[2] / "observability" / "readiness" / "wait-until-ready.sh"

pytestmark = pytest.mark.skipif(shutil.which("wget") is None, reason="needs wget, as the busybox image has")


def start(urls: list[str], marker: Path, timeout_s: int) -> subprocess.Popen:
    environment = {"PATH": os.environ["PATH"], "READY_URLS": " ".join(urls),
                   "READY_TIMEOUT_S": str(timeout_s), "READY_MARKER": str(marker)}
    return subprocess.Popen(["sh", str(SCRIPT)], env=environment, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def becomes_ready_after(answers_before_ready: int):
    """A responder that answers 503 a few times, then 200."""
    calls = {"n": 0}

    def respond(_request):
        calls["n"] += 1
        return Reply(200, b"ready") if calls["n"] > answers_before_ready else Reply(503, b"not yet")

    return respond


def test_marks_ready_once_every_url_answered_and_stops_on_sigterm(tmp_path):
    marker = tmp_path / "ready"
    with RecordingServer(becomes_ready_after(2)) as slow, RecordingServer() as quick:
        process = start([f"{slow.url}/ready", f"{quick.url}/health"], marker, timeout_s=60)
        try:
            poll_until(lambda: marker.exists() or NotYet(f"no marker; slow asked {len(slow.recorded())}x"),
                       timeout=30, describe="the ready marker")
            assert len(slow.recorded()) == 3, "asked until it answered 200, then never again"
            assert len(quick.recorded()) == 1
        finally:
            process.send_signal(signal.SIGTERM)
            out, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "stack ready" in out


def test_gives_up_at_the_deadline_naming_the_url(tmp_path):
    marker = tmp_path / "ready"
    with RecordingServer(becomes_ready_after(10_000)) as never:
        process = start([f"{never.url}/ready"], marker, timeout_s=2)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert f"not ready after 2s: {never.url}/ready" in err
    assert not marker.exists()

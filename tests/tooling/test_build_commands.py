"""The native build's step runner (tools/native/commands.py), with tiny Python
children instead of real builds: every line names its step, a Go build's
thousands of lines become counts, and one failing step stops the others."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.polling import poll_until
from tools.native import commands
from tools.native.commands import GoProgress
from tools.native.settings import REPO


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_go_output_is_counted_and_problems_are_shown():
    progress = GoProgress()
    shown = [line for line in [
        "go: downloading github.com/gin-gonic/gin v1.11.0",
        "go: downloading golang.org/x/net v0.46.0",
        "github.com/gin-gonic/gin",
        "net/http",
        "# github.com/tracing-demo/service-a",
        "./main.go:12:2: undefined: router",
    ] if not progress.take(line)]
    assert shown == ["# github.com/tracing-demo/service-a", "./main.go:12:2: undefined: router"]
    assert progress.describe() == "2 modules downloaded, 2 packages"
    progress.listed()  # `go list -deps` printed the two packages: the build needs two
    progress.take("net/http")
    assert progress.describe() == "1 of 2 packages compiled"


def test_each_output_line_names_its_step(capsys):
    commands.run("jaeger", python("print('first'); print('second')"))
    assert capsys.readouterr().out.splitlines()[1:] == ["[build] jaeger | first", "[build] jaeger | second"]


def test_a_quiet_step_says_how_far_it_is(capsys, monkeypatch):
    monkeypatch.setattr(commands, "HEARTBEAT_S", 0.2)
    progress = GoProgress()
    progress.take("go: downloading golang.org/x/net v0.46.0")
    commands.run("collector", python("import time; time.sleep(1)"), progress=progress)
    beats = [line for line in capsys.readouterr().out.splitlines() if "so far" in line]
    assert beats and beats[0].startswith("[build] collector: ")
    assert beats[0].endswith("s so far, 1 modules downloaded")


def test_a_failing_command_fails_its_step():
    with pytest.raises(subprocess.CalledProcessError):
        commands.run("service-a", python("raise SystemExit(2)"))


def test_one_failing_step_stops_the_others():
    ran_after = []

    def fails() -> None:
        commands.run("service-c", python("raise SystemExit(1)"))

    def long_build() -> None:
        commands.run("jaeger", python("import time; time.sleep(60)"))
        ran_after.append("jaeger")

    began = time.monotonic()
    with pytest.raises(subprocess.CalledProcessError):
        commands.run_together([[long_build], [fails]])
    assert time.monotonic() - began < 30, "the long step ran on after the other had failed"
    assert ran_after == []


def test_chains_run_side_by_side(tmp_path):
    signal = tmp_path / "collector-started"
    # The jaeger chain ends only once the collector chain has begun: one after the other, it would fail.
    waits = ("import pathlib, sys, time; deadline = time.monotonic() + 20\n"
             f"while not pathlib.Path({str(signal)!r}).exists():\n"
             "    if time.monotonic() > deadline: sys.exit('the other chain never started')\n"
             "    time.sleep(0.05)")
    commands.run_together([[lambda: commands.run("jaeger", python(waits))],
                           [lambda: commands.run("collector", python(f"open({str(signal)!r}, 'w')"))]])


def test_steps_of_a_chain_run_in_order(tmp_path):
    marks = tmp_path / "marks"

    def mark(name: str):
        return lambda: commands.run(name, python(f"open({str(marks)!r}, 'a').write({name!r} + ' ')"))

    commands.run_together([[mark("node"), mark("service-b")], [mark("service-c")]])
    order = marks.read_text().split()
    assert sorted(order) == ["node", "service-b", "service-c"]
    assert order.index("node") < order.index("service-b")


def test_ctrl_c_stops_every_step(tmp_path):
    """SIGINT to the build alone (not its children): each step's command is still stopped."""
    pids = tmp_path / "pids"
    pids.mkdir()
    child = ("import os, pathlib, time; "
             f"pathlib.Path({str(pids)!r}, str(os.getpid())).touch(); time.sleep(60)")
    # Ctrl-C's handler set explicitly: a runner started as a script's background
    # job hands its children SIGINT ignored, and Python then installs none.
    build = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
             "from tools.native import commands; "
             f"step = lambda name: lambda: commands.run(name, [sys.executable, '-c', {child!r}]); "
             "commands.run_together([[step('jaeger')], [step('collector')]])")
    process = subprocess.Popen([sys.executable, "-c", build], cwd=REPO, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        started = poll_until(lambda: len(list(pids.iterdir())) == 2 and list(pids.iterdir()), timeout=20,
                             describe="both steps' commands running")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) != 0
        error_output = process.stderr.read()
        assert "KeyboardInterrupt" in error_output
        for pid_file in started:
            status = Path(f"/proc/{pid_file.name}/status")  # a zombie too: its parent left without waiting
            assert not status.exists(), f"step command {pid_file.name} outlived the build: {status.read_text()[:60]!r}"
    finally:
        process.kill()

"""Run the build's commands as named steps, several at once, each readable.

Every line says which step it belongs to (`[build] jaeger: ...`). A step
quiet for HEARTBEAT_S says how long it has run and, for a Go build, how far it
is (modules downloaded, packages compiled of those it needs), instead of
printing thousands of `go: downloading` and package lines. When one step fails,
the others stop their commands, so a broken build ends at once.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from .settings import REPO

# A step quiet for longer than this says it is still at work (a cold Go build is minutes).
HEARTBEAT_S = 20.0
# Set when a step fails (or Ctrl-C): every running command is stopped.
ABORT = threading.Event()
# One whole line at a time: print() writes text and newline apart, and threads interleave them.
_OUTPUT = threading.Lock()


class Aborted(Exception):
    """This step was stopped because another one failed."""


def log(message: str) -> None:
    with _OUTPUT:
        sys.stdout.write(f"[build] {message}\n")
        sys.stdout.flush()


class GoProgress:
    """Counts what `go list -deps` and `go build -v` print, one line per module or package."""

    # `go build -v` and `go list` print bare import paths; errors and warnings never look like one.
    PACKAGE = re.compile(r"^[\w.~+-]+(/[\w.~+-]+)*$")

    def __init__(self) -> None:
        self.downloaded = 0
        self.packages = 0
        self.needed: int | None = None

    def take(self, line: str) -> bool:
        """Count the line; False: it is not a progress line, show it."""
        if line.startswith("go: downloading "):
            self.downloaded += 1
            return True
        if self.PACKAGE.match(line):
            self.packages += 1
            return True
        return False

    def listed(self) -> None:
        """`go list -deps` has finished: what it printed is what the build needs."""
        self.needed, self.packages = self.packages, 0

    def describe(self) -> str:
        if self.needed is None:
            return f"{self.downloaded} modules downloaded" + (f", {self.packages} packages" if self.packages else "")
        # Packages already in the Go build cache are not compiled and not printed.
        return f"{self.packages} of {self.needed} packages compiled"


def run(step: str, cmd: list[str], cwd: Path = REPO, env: dict[str, str] | None = None,
        progress: GoProgress | None = None, doing: str = "") -> None:
    """Run `cmd` for `step`; its output is shown line by line under the step's name.
    The heartbeat says `progress`, else `doing` (what the command is busy with), else its name."""
    shown = " ".join(str(c) for c in cmd)
    log(f"{step}: {shown}" + (f"   (in {cwd.relative_to(REPO)})" if cwd != REPO else ""))
    started = time.monotonic()
    process = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")

    def echo() -> None:
        for line in process.stdout:
            line = line.rstrip()
            if line and not (progress and progress.take(line)):
                log(f"{step} | {line}")

    reader = threading.Thread(target=echo, daemon=True)
    reader.start()
    next_beat = started + HEARTBEAT_S
    while process.poll() is None:
        if ABORT.is_set():
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            raise Aborted(step)
        now = time.monotonic()
        if now >= next_beat:
            what = progress.describe() if progress else doing or Path(str(cmd[0])).name
            log(f"{step}: {now - started:.0f}s so far, {what}")
            next_beat = now + HEARTBEAT_S
        try:
            process.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            pass
    reader.join()
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, cmd)


def timed(step: str, action: Callable[[], None]) -> None:
    started = time.monotonic()
    action()
    log(f"{step}: done in {time.monotonic() - started:.1f}s")


def run_together(chains: list[list[Callable[[], None]]]) -> None:
    """Run each chain in its own thread (a chain's steps in order); raise the first failure.

    On two cores this still pays: one build downloads or links while another compiles.
    """
    ABORT.clear()
    failures: list[BaseException] = []

    def run_chain(chain: list[Callable[[], None]], done: threading.Event) -> None:
        try:
            for step in chain:
                step()
        except Aborted:
            pass
        except BaseException as error:  # SystemExit from a step too: every failure stops the build
            failures.append(error)
            ABORT.set()
        finally:
            done.set()

    # Each chain's end is an Event, waited on instead of Thread.join(): a join cut
    # short by Ctrl-C can mark the thread finished while it runs (python/cpython#90882),
    # and the build would exit while a step still stops its command, orphaning it.
    # The threads start inside the try: a Ctrl-C that lands while they start (a
    # busy machine) must stop the ones already running too.
    running: list[tuple[threading.Thread, threading.Event]] = []
    try:
        for chain in chains:
            done = threading.Event()
            thread = threading.Thread(target=run_chain, args=(chain, done))
            running.append((thread, done))
            thread.start()
        for _, done in running:
            done.wait()
    except BaseException:  # Ctrl-C: stop every command before leaving
        ABORT.set()
        for thread, done in running:
            if thread.ident is not None:  # started
                done.wait()
        raise
    if failures:
        raise failures[0]

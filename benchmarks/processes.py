"""What the benchmarks read of the stack's processes (psutil), and how each
runs a native stack: every figure counts a process with its direct children
(gunicorn's and nginx's workers)."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

import psutil

from tools.native.stack import NativeStack

# No spans at all in any service (context is still propagated).
UNTRACED_ENV = {"OTEL_SDK_DISABLED": "true"}


def _family_sum(pid: int, figure: Callable[[psutil.Process], float]) -> float:
    """`figure` summed over a process and its children; one that exits meanwhile counts 0."""
    total = 0.0
    parent = psutil.Process(pid)
    for one in [parent, *parent.children()]:
        try:
            total += figure(one)
        except psutil.NoSuchProcess:
            pass
    return total


def rss_mib(pid: int) -> float:
    return _family_sum(pid, lambda p: p.memory_info().rss) / 2**20


def pss_mib(pid: int) -> float:
    """Proportional set size: pages shared between the processes count once in a sum."""
    return _family_sum(pid, lambda p: p.memory_full_info().pss) / 2**20


def cpu_seconds(pid: int) -> float:
    """User + system time."""
    return _family_sum(pid, lambda p: sum(p.cpu_times()[:2]))


def pids(stack: NativeStack) -> dict[str, int]:
    return {name: proc.popen.pid for name, proc in list(stack.processes.items()) if proc.running}


def snapshot(figure: Callable[[int], float], processes: dict[str, int] | None) -> dict[str, float]:
    """`figure(pid)` of each process, leaving out one that has stopped (a restart between stages)."""
    found = {}
    for name, pid in (processes or {}).items():
        try:
            found[name] = figure(pid)
        except psutil.NoSuchProcess:
            pass
    return found


@contextmanager
def stopped_on_exit(stack: NativeStack | None) -> Iterator[None]:
    """The stack (if any) always stopped on leaving: a kill (SIGTERM) cleans up like
    Ctrl-C, and a second one must not cut the stop short and orphan children.
    SIGINT is set too: a shell without job control starts background commands
    with it ignored."""
    main_thread = threading.current_thread() is threading.main_thread()
    signums = (signal.SIGINT, signal.SIGTERM) if main_thread else ()
    handlers = {signum: signal.signal(signum, signal.default_int_handler) for signum in signums}
    try:
        yield
    finally:
        for signum in signums:
            signal.signal(signum, signal.SIG_IGN)
        try:
            if stack:
                stack.stop()
        finally:
            for signum, handler in handlers.items():
                signal.signal(signum, handler)

"""The native runner's failure paths, with tiny Python children on free ports
(no stack): a start that fails must stop what it started and say why."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.support.polling import NotYet, poll_until
from tools.native import control
from tools.native import stack as stack_module
from tools.native.process import ManagedProcess, StartupError
from tools.native.stack import NativeStack


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child(tmp_path: Path, name: str, code: str, port: int | None = None) -> ManagedProcess:
    """A child running `code`; healthy once something answers on `port`."""
    port = port or free_port()
    return ManagedProcess(name, [sys.executable, "-c", code], tmp_path, {}, f"http://127.0.0.1:{port}/",
                          tmp_path / f"{name}.log", [port])


def serves_http(port: int) -> str:
    return ("import http.server as h; "
            f"h.ThreadingHTTPServer(('127.0.0.1', {port}), h.SimpleHTTPRequestHandler).serve_forever()")


def healthy_child(tmp_path: Path, name: str) -> ManagedProcess:
    port = free_port()
    return child(tmp_path, name, serves_http(port), port)


def is_gone(pid: int) -> bool:
    """No such process, or only its zombie (a container's init may never reap it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_busy_port_is_named_and_nothing_starts(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = child(tmp_path, "svc", "pass", port)
        with pytest.raises(StartupError, match=rf"svc: port\(s\) \[{port}\] already in use"):
            process.start()
    assert process.popen is None


def test_a_missing_binary_is_a_startup_error(tmp_path):
    process = ManagedProcess("svc", [str(tmp_path / "no-such-binary")], tmp_path, {}, "http://127.0.0.1:9/",
                             tmp_path / "svc.log")
    with pytest.raises(StartupError, match="svc: cannot run .*no-such-binary"):
        process.start()


def test_a_child_that_dies_while_starting_is_reported_with_its_log(tmp_path):
    process = child(tmp_path, "svc", "import sys; print('boom: bad config', flush=True); sys.exit(3)")
    with pytest.raises(StartupError, match=r"(?s)svc exited with 3 while starting.*boom: bad config"):
        process.start()


def test_a_child_never_ready_is_stopped_at_the_deadline(tmp_path):
    process = child(tmp_path, "svc", "import time; time.sleep(60)")
    expected = r"(?s)svc not ready at http://127\.0\.0\.1:\d+/ after 0\.5s.*nothing logged"
    with pytest.raises(StartupError, match=expected):
        process.start(ready_within=0.5)
    assert not process.running


def test_stop_kills_the_whole_process_group_when_the_grace_runs_out(tmp_path):
    # A master and its worker that both ignore SIGTERM (think a stuck nginx or gunicorn).
    ignore_term = "import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    worker = ignore_term + "time.sleep(60)"
    master = ignore_term + f"w = subprocess.Popen([sys.executable, '-c', {worker!r}]); print(w.pid, flush=True); " \
        "time.sleep(60)"
    process = child(tmp_path, "master", master)
    # Started by hand: it has no health endpoint, and stop() is what is under test.
    with process.log_path.open("ab") as log:
        process.popen = subprocess.Popen(process.command, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
    [worker_pid] = poll_until(lambda: process.log_path.read_text().split() or NotYet("no worker pid yet"),
                              timeout=10, interval=0.05, describe="the worker's pid in the master's log")
    assert process.stop(grace=0.3) == -9
    poll_until(lambda: is_gone(int(worker_pid)) or NotYet(f"worker {worker_pid} still running"),
               timeout=5, interval=0.05, describe="the worker to die with its master")


def test_a_failed_start_stops_the_components_already_running(tmp_path, monkeypatch):
    monkeypatch.setattr(stack_module, "LOGS", tmp_path)  # never touch the real .native/logs
    started: dict[str, ManagedProcess] = {}

    class TwoComponentStack(NativeStack):
        def _describe(self, name: str) -> ManagedProcess:
            if name == "jaeger":
                started[name] = healthy_child(tmp_path, name)
            else:
                started[name] = child(tmp_path, name, "import sys; sys.exit(1)")
            return started[name]

    stack = TwoComponentStack(ports=None)
    with pytest.raises(StartupError, match="collector exited with 1"):
        stack.start(build_first=False)
    assert set(started) == {"jaeger", "collector"}, "start went on after a failure"
    assert not started["jaeger"].running, "the trace store was left running after the collector failed"
    assert started["jaeger"].popen.returncode is not None


# `make up` (tools.native.stack.main_up) in a child process, with every component
# replaced by a tiny server that exits 0 on SIGTERM; `slow` never becomes ready.
FAKE_UP = """
import os, signal, sys
from pathlib import Path
from tools.native import stack
from tools.native.process import ManagedProcess

tmp, slow = Path(sys.argv[1]), sys.argv[2]
# One port per component, kept when it is started again.
ports = dict(zip(stack.START_ORDER, (int(p) for p in sys.argv[3:])))
stack.LOGS = tmp
stack.control.SOCKET = Path(os.environ["FAKE_CONTROL_SOCKET"])

class FakeStack(stack.NativeStack):
    def build(self):
        pass

    def _describe(self, name):
        port = ports[name]
        # Each instance writes its pid, so a test can crash a chosen component.
        serve = ("import http.server as h, os, signal, sys; from pathlib import Path; "
                 "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); "
                 f"Path({str(tmp / name)!r} + '.pid').write_text(str(os.getpid())); "
                 f"h.ThreadingHTTPServer(('127.0.0.1', {port}), h.SimpleHTTPRequestHandler).serve_forever()")
        # `armed` is written only once the SIGTERM handler is installed: that is
        # the state the interrupt tests need, not merely that the child exists.
        armed = tmp / f"{name}.armed"
        code = serve if name != slow else "import signal, sys, time; from pathlib import Path; " \\
            f"signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); Path({str(armed)!r}).touch(); time.sleep(60)"
        return ManagedProcess(name, [sys.executable, "-c", code], tmp, {}, f"http://127.0.0.1:{port}/",
                              tmp / f"{name}.log", [port])

# Real ports only for the printed addresses; the fakes listen on the free ports given.
# No sampling tier (main_up's default): one fake per START_ORDER component.
stack.NativeStack.from_repo = classmethod(lambda cls, sampling_tier=False: FakeStack(
    stack.Ports.from_dotenv(stack.settings.read_dotenv())))
sys.exit(stack.main_up())
"""


def ignore_sigint() -> None:
    """What a shell without job control does to a command it starts with `&`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_fake_up(tmp_path: Path, slow: str, wait_for: Callable[[], object], signum: int,
                preexec: Callable[[], None] | None = None) -> tuple[int, str]:
    """Start the fake `make up`, wait until `wait_for()` holds, send `signum`; exit code and output."""
    with fake_up(tmp_path, slow, preexec) as runner:
        poll_until(lambda: wait_for() or NotYet((tmp_path / "up.out").read_text()), timeout=30, interval=0.05,
                   describe="the fake stack to reach the moment of the signal")
        runner.send_signal(signum)
        return runner.wait(timeout=30), (tmp_path / "up.out").read_text()


@contextlib.contextmanager
def fake_up(tmp_path: Path, slow: str = "", preexec: Callable[[], None] | None = None) -> Iterator[subprocess.Popen]:
    """The fake `make up` running; killed on the way out if a test left it running."""
    output = tmp_path / "up.out"
    ports = [str(free_port()) for _ in stack_module.START_ORDER]
    env = {**os.environ, "FAKE_CONTROL_SOCKET": str(short_socket_path(tmp_path))}
    with output.open("wb") as out:
        runner = subprocess.Popen([sys.executable, "-c", FAKE_UP, str(tmp_path), slow, *ports], env=env,
                                  cwd=stack_module.REPO, stdout=out, stderr=subprocess.STDOUT, preexec_fn=preexec)
    try:
        yield runner
    finally:
        if runner.poll() is None:
            # SIGTERM first: the runner stops its children (they run in their own
            # sessions and would outlive a killed runner); kill only a stuck one.
            runner.terminate()
            try:
                runner.wait(timeout=30)
            except subprocess.TimeoutExpired:
                runner.kill()
                runner.wait()


def short_socket_path(tmp_path: Path) -> Path:
    """A Unix socket path must stay under ~107 bytes; pytest's tmp_path may not."""
    folder = tmp_path / "sock"
    if len(str(folder / "control.sock")) > 100:
        folder = Path(tempfile.mkdtemp(prefix="nc-"))
    folder.mkdir(exist_ok=True)
    return folder / "control.sock"


@pytest.mark.parametrize(("signum", "preexec"), [
    (signal.SIGINT, None), (signal.SIGTERM, None), (signal.SIGHUP, None),
    (signal.SIGINT, ignore_sigint),  # started in the background: SIGINT still stops it
], ids=["SIGINT", "SIGTERM", "SIGHUP", "SIGINT-started-in-the-background"])
def test_make_up_stops_every_process_on_a_signal(tmp_path, signum, preexec):
    code, output = run_fake_up(tmp_path, slow="", signum=signum, preexec=preexec,
                               wait_for=lambda: "stack is up" in (tmp_path / "up.out").read_text())
    assert code == 0, output
    assert "exit codes: gateway=0, service-c=0, service-b=0, service-a=0, collector=0, jaeger=0" in output, output


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_make_up_interrupted_while_starting_stops_what_had_started(tmp_path, signum):
    code, output = run_fake_up(tmp_path, slow="service-b", signum=signum,
                               wait_for=lambda: (tmp_path / "service-b.armed").exists())
    assert "exit codes: service-b=0, service-a=0, collector=0, jaeger=0" in output, output
    assert "Traceback" not in output, output
    assert code == 0, output


# ---------------------------------------------------------------- one component at a time
def stack_up(tmp_path: Path) -> Callable[[], object]:
    return lambda: "stack is up" in (tmp_path / "up.out").read_text() or NotYet((tmp_path / "up.out").read_text())


def pid_of(tmp_path: Path, name: str) -> int:
    return int((tmp_path / f"{name}.pid").read_text())


def ask(tmp_path: Path, command: str, component: str | None = None) -> dict:
    return control.send(command, component, path=short_socket_path(tmp_path), timeout=30)


def test_a_component_stopped_on_purpose_stays_stopped_while_a_crash_still_stops_the_stack(tmp_path):
    with fake_up(tmp_path) as runner:
        poll_until(stack_up(tmp_path), timeout=30, interval=0.05, describe="the fake stack to be up")
        collector = pid_of(tmp_path, "collector")
        answer = ask(tmp_path, "stop", "collector")
        assert answer["ok"], answer
        assert answer["status"]["collector"] == "stopped"
        assert {s for n, s in answer["status"].items() if n != "collector"} == {"running"}, answer
        assert is_gone(collector)
        # A crash after the deliberate stop: the runner must name only the crashed part.
        os.kill(pid_of(tmp_path, "service-a"), signal.SIGKILL)
        code = runner.wait(timeout=30)
    output = (tmp_path / "up.out").read_text()
    assert code == 1, output
    assert "stopped unexpectedly: service-a;" in output, output
    assert "collector=0" in output, output


def test_a_stopped_component_starts_again_and_the_stack_stops_cleanly(tmp_path):
    with fake_up(tmp_path) as runner:
        poll_until(stack_up(tmp_path), timeout=30, interval=0.05, describe="the fake stack to be up")
        first = pid_of(tmp_path, "collector")
        assert ask(tmp_path, "stop", "collector")["status"]["collector"] == "stopped"
        answer = ask(tmp_path, "start", "collector")
        assert answer["ok"], answer
        assert answer["status"]["collector"] == "running"
        assert pid_of(tmp_path, "collector") != first, "start answered before a new collector was up"
        runner.send_signal(signal.SIGTERM)
        code = runner.wait(timeout=30)
    output = (tmp_path / "up.out").read_text()
    assert code == 0, output
    assert "exit codes: gateway=0, service-c=0, service-b=0, service-a=0, collector=0, jaeger=0" in output, output


def test_restart_replaces_the_process_and_answers_once_it_is_healthy(tmp_path):
    with fake_up(tmp_path) as runner:
        poll_until(stack_up(tmp_path), timeout=30, interval=0.05, describe="the fake stack to be up")
        first = pid_of(tmp_path, "service-c")
        answer = ask(tmp_path, "restart", "service-c")
        assert answer["ok"], answer
        assert set(answer["status"].values()) == {"running"}, answer
        assert is_gone(first)
        assert pid_of(tmp_path, "service-c") != first
        assert runner.poll() is None, (tmp_path / "up.out").read_text()
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=30) == 0, (tmp_path / "up.out").read_text()


class StubStack:
    """What handle_request needs of a stack; records the actions asked of it."""

    components = stack_module.START_ORDER

    def __init__(self, failure: Exception | None = None):
        self.actions: list[str] = []
        self.failure = failure

    def stop_component(self, name):
        self.actions.append(f"stop {name}")

    def start_component(self, name):
        self.actions.append(f"start {name}")
        if self.failure:
            raise self.failure

    def status(self):
        return {"collector": "running"}


# request line -> expected error (substring), or None and the actions it must cause
CONTROL_REQUESTS = [
    (b'{"command": "stop", "component": "collector"}\n', None, ["stop collector"]),
    (b'{"command": "start", "component": "collector"}\n', None, ["start collector"]),
    (b'{"command": "restart", "component": "service-b"}\n', None, ["stop service-b", "start service-b"]),
    (b'{"command": "status"}\n', None, []),
    (b'{"command": "kill", "component": "collector"}\n', "unknown command 'kill'", []),
    (b'{"command": "stop", "component": "redis"}\n', "unknown component 'redis'", []),
    (b'{"command": "stop"}\n', "unknown component None", []),
    (b'not json\n', "expected one JSON line", []),
    (b'["stop", "collector"]\n', "expected one JSON line", []),
    (b'\n', "expected one JSON line", []),
]


@pytest.mark.parametrize(("line", "error", "actions"), CONTROL_REQUESTS, ids=[r[0].decode().strip() or "empty"
                                                                           for r in CONTROL_REQUESTS])
def test_control_request(line, error, actions):
    stack = StubStack()
    answer = control.handle_request(stack, line)
    assert stack.actions == actions
    if error is None:
        assert answer == {"ok": True, "error": "", "status": {"collector": "running"}}
    else:
        assert answer["ok"] is False and error in answer["error"], answer


def test_a_failed_start_is_reported_to_the_client_not_raised():
    stack = StubStack(failure=StartupError("collector exited with 1 while starting"))
    answer = control.handle_request(stack, b'{"command": "start", "component": "collector"}\n')
    assert answer["ok"] is False and "exited with 1" in answer["error"], answer


def test_the_client_says_when_no_stack_is_running(tmp_path):
    with pytest.raises(control.ControlError, match="no stack is running"):
        control.send("status", path=short_socket_path(tmp_path))


def test_a_leftover_socket_file_is_not_taken_for_a_running_stack(tmp_path):
    path = short_socket_path(tmp_path)
    with socket.socket(socket.AF_UNIX) as dead:
        dead.bind(str(path))  # bound, never listening: what a killed runner leaves behind
    assert not control.socket_in_use(path)
    server = control.ControlServer(StubStack(), path)
    server.start()
    try:
        assert control.socket_in_use(path)
        assert control.send("status", path=path)["ok"]
        with pytest.raises(control.ControlError, match="another runner"):
            control.ControlServer(StubStack(), path).start()
    finally:
        server.close()
    assert not path.exists()


def test_an_exception_without_a_message_is_still_an_error():
    stack = StubStack(failure=StopIteration())
    answer = control.handle_request(stack, b'{"command": "start", "component": "collector"}\n')
    assert answer["ok"] is False and answer["error"] == "StopIteration", answer

"""One child process of the native stack: start, wait until ready, stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path


class StartupError(RuntimeError):
    pass


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def tail(path: Path, lines: int = 15) -> str:
    last = path.read_text(errors="replace").splitlines()[-lines:] if path.exists() else []
    return "\n".join(last) or "(nothing logged)"


@dataclass
class ManagedProcess:
    """A long-running child whose output goes to one log file."""

    name: str
    command: list[str]
    cwd: Path
    env: dict[str, str]
    health_url: str
    log_path: Path
    ports: list[int] = field(default_factory=list)
    stop_signal: int = signal.SIGTERM
    popen: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def start(self, ready_within: float = 60.0) -> None:
        busy = [p for p in self.ports if not port_is_free(p)]
        if busy:
            raise StartupError(
                f"{self.name}: port(s) {busy} already in use. Another stack running? "
                "Stop it, or change the ports in .env."
            )
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            try:
                self.popen = subprocess.Popen(
                    self.command,
                    cwd=self.cwd,
                    env={**os.environ, **self.env},
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    # Own session: a Ctrl-C in the terminal reaches only the runner,
                    # which then stops the children in order.
                    start_new_session=True,
                )
            except OSError as error:  # missing binary, wrong cwd, not executable
                raise StartupError(f"{self.name}: cannot run {self.command[0]}: {error}") from error
        self._wait_ready(ready_within)

    def _wait_ready(self, within: float) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if not self.running:
                raise StartupError(
                    f"{self.name} exited with {self.popen.returncode} while starting; "
                    f"last lines of {self.log_path}:\n{tail(self.log_path)}"
                )
            if http_ok(self.health_url):
                return
            time.sleep(0.1)
        self.stop()
        raise StartupError(
            f"{self.name} not ready at {self.health_url} after {within:g}s; "
            f"last lines of {self.log_path}:\n{tail(self.log_path)}"
        )

    def stop(self, grace: float = 15.0) -> int | None:
        """Ask the process to stop, wait `grace` seconds, then kill it.

        Returns the exit code (None if it was never started)."""
        if self.popen is None:
            return None
        if self.running:
            self.popen.send_signal(self.stop_signal)
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._kill_process_group()
                self.popen.wait()
        return self.popen.returncode

    def _kill_process_group(self) -> None:
        # The whole group (the child leads its own session): nginx and gunicorn
        # workers would otherwise outlive their killed master and keep the port.
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # exited between the timeout and now

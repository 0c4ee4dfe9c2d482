"""Run service-c's real gunicorn in a test: start it, wait until every worker serves, talk raw HTTP."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

SERVICE_DIR = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).with_name("gunicorn")
LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")
STARTUP_DEADLINE_S = 30
STOP_DEADLINE_S = 20
# Set on the command line (it overrides gunicorn.conf.py), so the test knows
# how many "worker ready" lines to wait for.
WORKERS = 2


def poll(condition: Callable[[], object], deadline_s: float, what: str,
         last_seen: Callable[[], object] | None = None) -> object:
    """Return condition()'s first truthy value; fail after deadline_s, saying what was last seen."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    seen = f"; last seen: {last_seen()!r}" if last_seen else ""
    pytest.fail(f"timed out after {deadline_s}s waiting for {what}{seen}")


@dataclass
class Gunicorn:
    process: subprocess.Popen
    log_path: Path
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.log_path.read_text().splitlines()]


def _ready_workers(log_path: Path) -> set[int]:
    pids = set()
    for line in log_path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("message") == "worker ready":
            pids.add(record.get("pid"))
    return pids


@contextmanager
def running_gunicorn(log_path: Path, env: dict[str, str], workers: int = WORKERS) -> Iterator[Gunicorn]:
    """gunicorn on a free loopback port, yielded once every worker has said "worker ready".

    That line comes from the post_worker_init hook, which gunicorn calls after
    the worker installed its signal handlers, started tracing (post_fork) and
    loaded the app: a request or a SIGTERM sent from then on meets a worker
    that handles it. A master that logs "Listening" or a first /health answer
    would say nothing about the other worker.
    """
    full_env = {**os.environ, "HOST": "127.0.0.1", "PORT": "0", **env}
    with log_path.open("wb") as log:
        process = subprocess.Popen([str(GUNICORN), "-c", "gunicorn.conf.py", "--workers", str(workers)],
                                   cwd=SERVICE_DIR, env=full_env, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        def tail() -> str:
            return log_path.read_text()[-2000:]

        match = poll(lambda: process.poll() is None and LISTENING.search(log_path.read_text()),
                     STARTUP_DEADLINE_S, "gunicorn to listen", tail)
        poll(lambda: process.poll() is None and len(_ready_workers(log_path)) >= workers,
             STARTUP_DEADLINE_S, f"{workers} workers to be ready", tail)
        yield Gunicorn(process=process, log_path=log_path, port=int(match.group(1)))
    finally:
        # SIGTERM first, so the workers exit with their master, then the hard way.
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class RawAnswer:
    status: int | None  # None: the connection closed without an answer
    head: bytes
    body: bytes
    # From just before the request is sent to the end of the answer. Taken
    # before the send, never after: the server may read (and start its own
    # clocks) before this process is scheduled again, so a clock started after
    # sendall() could make a server deadline look a few ms short.
    seconds: float

    def json(self) -> object:
        return json.loads(self.body)


def raw_exchange(port: int, data: bytes, timeout_s: float = 15.0) -> RawAnswer:
    """Send `data` and keep the connection open (as a stalled client would) until the server answers or closes.

    The answer is read to its Content-Length, so a server that answers but
    keeps the connection open is not mistaken for one that hangs.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as conn:
        sent_at = time.monotonic()
        conn.sendall(data)
        received = b""
        while True:
            head, separator, body = received.partition(b"\r\n\r\n")
            if separator:
                length = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
                if length and len(body) >= int(length.group(1)):
                    break
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                pytest.fail(f"no answer and no close within {timeout_s}s; received {received[:300]!r}")
            if not chunk:
                break
            received += chunk
        seconds = time.monotonic() - sent_at
    head, _, body = received.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else None
    return RawAnswer(status=status, head=head, body=body, seconds=seconds)


def http_get(port: int, path: str, header_lines: list[tuple[str, str]] = ()) -> int | None:
    head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n".encode()
    head += b"".join(f"{name}: {value}\r\n".encode("latin-1") for name, value in header_lines)
    return raw_exchange(port, head + b"\r\n").status

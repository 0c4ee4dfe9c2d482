"""`python3 -m tools.trace` as a user runs it, against a local server answering with a
recorded trace: exit codes, messages, terminal detection, NO_COLOR, --logs, --logs-only.
(The run against the real stack is tests/e2e/test_75_trace_command.py.)"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from tests.stores.model import Span, Trace
from tests.tooling.stored_traces import load, serve, trace_id_of
from tests.tooling.test_trace_render import ANSI, COLOUR_SGR
from tools.scenario_table import REPO


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "COLUMNS")}
    return {**env, **extra}


def trace_command(url: str, *args: str, store: str = "jaeger") -> list[str]:
    return [sys.executable, "-m", "tools.trace", "--store", store, "--store-url", url, "--timeout", "2", *args]


def run_trace(url: str, *args: str, store: str = "jaeger", **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(trace_command(url, *args, store=store), cwd=REPO, capture_output=True, text=True,
                          timeout=60, env=clean_env(**env))


@pytest.mark.parametrize("store", ["jaeger", "tempo"])
def test_a_recorded_trace_is_drawn_plain_on_a_pipe(store):
    with serve(store, "failure-timeout") as server:
        result = run_trace(server.url, trace_id_of("failure-timeout"), store=store, COLUMNS="90")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "\x1b[" not in result.stdout
    assert "scenario 'failure-timeout'" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 90


def run_on_terminal(args: list[str], columns: int, **env: str) -> str:
    """Run with stdout on a pseudo-terminal of `columns` columns; what it wrote."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    with subprocess.Popen(args, cwd=REPO, stdout=follower, stderr=subprocess.PIPE, env=clean_env(TERM="xterm", **env)) as process:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode()


@pytest.mark.parametrize("no_color", [False, True], ids=["terminal", "terminal+NO_COLOR"])
def test_colour_only_on_a_terminal_without_no_color_and_the_terminals_width(no_color):
    with serve("jaeger", "failure-cascade") as server:
        out = run_on_terminal(trace_command(server.url, trace_id_of("failure-cascade")), columns=72,
                              **({"NO_COLOR": "1"} if no_color else {}))
    assert bool(COLOUR_SGR.search(out)) is not no_color, repr(out[:300])
    plain = ANSI.sub("", out)
    assert "ERROR " in plain
    assert max(len(line) for line in plain.replace("\r", "").splitlines()) <= 72, plain


def test_unknown_trace_exits_one_after_waiting(tmp_path):
    with serve("jaeger", "parallel") as server:
        result = run_trace(server.url, "0123456789abcdef0123456789abcdef")
    assert result.returncode == 1
    assert "does not know trace 0123456789abcdef0123456789abcdef (waited 2 s)" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["not a trace id"], "neither a trace id"),
    (["--scenario", "no-such", "0123456789abcdef0123456789abcdef"], "unknown scenario"),
])
def test_bad_input_exits_two_with_a_reason(args, message):
    result = run_trace("http://127.0.0.1:9", *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_store_that_does_not_answer_exits_two():
    result = run_trace("http://127.0.0.1:9", "0123456789abcdef0123456789abcdef")
    assert result.returncode == 2
    assert "does not answer at http://127.0.0.1:9" in result.stderr and "Traceback" not in result.stderr


def write_request_logs(folder: Path) -> tuple[Trace, Span]:
    """A recorded trace, and log lines of its request: service-b's in its server span, the gateway's
    with only the X-Trace-ID (nginx has no span), and an unrelated line of another request."""
    trace = load("jaeger", "parallel")
    b_server = next(s for s in trace.spans if s.service == "service-b" and s.kind == "SERVER")
    x_trace_id = b_server.attributes["app.x_trace_id"]
    lines = {
        "service-b": [{"timestamp": "2026-12-01T10:00:00.123Z", "level": "INFO", "service": "service-b",
                       "message": "request completed", "trace_id": trace.trace_id, "span_id": b_server.span_id,
                       "x_trace_id": x_trace_id}],
        "gateway": [{"timestamp": "2026-12-01T10:00:00.100Z", "level": "INFO", "service": "gateway",
                     "message": "request", "trace_id": "", "span_id": "", "x_trace_id": x_trace_id},
                    {"timestamp": "2026-12-01T10:00:00.050Z", "level": "INFO", "service": "gateway",
                     "message": "another request", "trace_id": "", "span_id": "", "x_trace_id": "other"}],
    }
    for name, written in lines.items():
        (folder / f"{name}.log").write_text("".join(json.dumps(line) + "\n" for line in written))
    return trace, b_server


def test_logs_join_each_line_to_its_span(tmp_path: Path):
    trace, _ = write_request_logs(tmp_path)
    with serve("jaeger", "parallel") as server:
        result = run_trace(server.url, "--logs", "--log-dir", str(tmp_path), trace.trace_id, COLUMNS="120")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout.splitlines()
    [b_row] = [i for i, line in enumerate(out) if "service-b SERVER" in line]
    assert re.match(r"^\s+│ 10:00:00\.123 service-b INFO  request completed", out[b_row + 1]), "\n".join(out)
    tail = "\n".join(out[out.index(next(l for l in out if "no span of the trace owns" in l)):])
    assert "gateway" in tail and "request" in tail


@pytest.mark.parametrize("by", ["otel", "x"])
def test_logs_only_prints_the_requests_lines_in_time_order_without_a_store(tmp_path: Path, by):
    trace, b_server = write_request_logs(tmp_path)
    wanted = trace.trace_id if by == "otel" else b_server.attributes["app.x_trace_id"]
    result = run_trace("http://127.0.0.1:9", "--logs-only", "--log-dir", str(tmp_path), wanted, COLUMNS="40")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout.splitlines()
    expected = [("2026-12-01T10:00:00.100Z gateway", "request"),
                ("2026-12-01T10:00:00.123Z service-b", f"request completed trace_id={trace.trace_id}")]
    if by == "otel":  # the gateway's line carries no trace id
        expected = expected[1:]
    assert len(out) == len(expected), result.stdout  # one line each, however narrow the screen
    for line, (start, text) in zip(out, expected):
        assert line.startswith(start) and text in line, result.stdout


def test_logs_only_without_a_matching_line_exits_one(tmp_path: Path):
    write_request_logs(tmp_path)
    result = run_trace("http://127.0.0.1:9", "--logs-only", "--log-dir", str(tmp_path), "no-such-request")
    assert result.returncode == 1 and result.stdout == ""
    assert "no log line under" in result.stderr and "'no-such-request'" in result.stderr

"""The request-buffering worker on a real gunicorn (request_buffering.py, docs/contract.md "Slow clients").

The e2e table (tests/e2e/test_56_slow_clients.py) checks the contract's rule
on every service's own port: the head and body deadlines, a connection that
never sends, clients that keep their end open after a last answer. These
check what comes of reading requests in gunicorn's main loop: the bytes of a
next request that arrive with the last one, a client that waits for
"100 Continue", and how much memory clients can make the worker hold.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.server.request_buffering import BODY_DEADLINE_S, HEAD_DEADLINE_S, MAX_BUFFERED_BYTES
from tests.gunicorn_support import Gunicorn, poll, running_gunicorn

GUNICORN_CONF = Path(__file__).resolve().parents[1] / "gunicorn.conf.py"
WORKER_CONNECTIONS = int(re.search(r"^worker_connections = (\d+)$", GUNICORN_CONF.read_text(), re.M).group(1))
CONTAINER_LIMIT_MIB = 128  # docker-compose.yml; compose-check wants peaks under 70 % of it


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory) -> Iterator[Gunicorn]:
    log_path = tmp_path_factory.mktemp("gunicorn-buffering") / "service-c.log"
    # One worker, so every connection below is on the worker whose memory is read.
    env = {"OTEL_SDK_DISABLED": "true", "LOG_LEVEL": "INFO", "CONFORMANCE_ENDPOINT": "on"}
    with running_gunicorn(log_path, env, workers=1) as running:
        yield running


def connect(gunicorn: Gunicorn) -> socket.socket:
    return socket.create_connection(("127.0.0.1", gunicorn.port), timeout=BODY_DEADLINE_S + 5)


def read_answers(sock: socket.socket, count: int) -> list[bytes]:
    """The heads of the next `count` final answers (1xx included as their own), bodies read past."""
    received, heads = b"", []
    while len(heads) < count:
        head, separator, rest = received.partition(b"\r\n\r\n")
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        body_length = int(length.group(1)) if length else 0
        if separator and len(rest) >= body_length:
            heads.append(head)
            received = rest[body_length:]
            continue
        chunk = sock.recv(65536)
        assert chunk, f"closed after {len(heads)} answers"
        received += chunk
    return heads


def status(head: bytes) -> int:
    return int(head.split(b" ", 2)[1])


def test_requests_sent_together_on_one_connection_are_all_answered(gunicorn):
    requests = (b"GET /health HTTP/1.1\r\nHost: c\r\n\r\n"
                b"POST /test HTTP/1.1\r\nHost: c\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]"
                b"GET /api/process HTTP/1.1\r\nHost: c\r\nConnection: close\r\n\r\n")
    with connect(gunicorn) as sock:
        sock.sendall(requests)
        assert [status(head) for head in read_answers(sock, 3)] == [200, 200, 200]


def test_a_client_waiting_for_100_continue_gets_it_once_then_its_answer(gunicorn):
    with connect(gunicorn) as sock:
        sock.sendall(b"POST /test HTTP/1.1\r\nHost: c\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                     b"Expect: 100-continue\r\nConnection: close\r\n\r\n")
        [interim] = read_answers(sock, 1)
        assert status(interim) == 100
        sock.sendall(b"[]")
        rest = b""
        while chunk := sock.recv(65536):
            rest += chunk
    assert rest.startswith(b"HTTP/1.1 200 "), rest[:200]
    assert b"100 Continue" not in rest


def worker_rss_mib(gunicorn: Gunicorn) -> float:
    [pid] = {record["pid"] for record in gunicorn.records() if record.get("message") == "worker ready"}
    status_lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return int(next(line for line in status_lines if line.startswith("VmRSS:")).split()[1]) / 1024


def bytes_not_yet_read(port: int) -> int:
    """What the kernel holds for the server's side of its connections, not yet read by gunicorn."""
    total = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":  # established
            total += int(fields[4].split(":")[1], 16)  # rx_queue
    return total


def test_every_connection_slot_holding_its_largest_request_stays_within_the_memory_limit(gunicorn):
    """The worst case worker_connections and MAX_BUFFERED_BYTES allow: every
    slot holding a 48 KiB head and 64 KiB less one byte of body, which the
    worker keeps until the body deadline."""
    padding = "".join(f"X-Pad-{n}: {'p' * 16000}\r\n" for n in range(3))
    head = (f"POST /test HTTP/1.1\r\nHost: c\r\nContent-Type: application/json\r\n{padding}"
            f"Content-Length: {64 * 1024}\r\n\r\n").encode()
    request = head + b"[" + b" " * (64 * 1024 - 2)
    assert len(request) <= MAX_BUFFERED_BYTES
    before = worker_rss_mib(gunicorn)
    held = []
    try:
        for _ in range(WORKER_CONNECTIONS):
            sock = connect(gunicorn)
            sock.sendall(request)
            held.append(sock)
        poll(lambda: bytes_not_yet_read(gunicorn.port) == 0, HEAD_DEADLINE_S, "the worker to read every request",
             lambda: bytes_not_yet_read(gunicorn.port))
        holding = worker_rss_mib(gunicorn)
    finally:
        for sock in held:
            sock.close()
    buffered_mib = len(held) * len(request) / 2**20
    assert holding - before <= 2 * buffered_mib, f"{before:.0f} -> {holding:.0f} MiB for {buffered_mib:.0f} MiB held"
    assert holding <= 0.7 * CONTAINER_LIMIT_MIB, f"{holding:.0f} MiB"

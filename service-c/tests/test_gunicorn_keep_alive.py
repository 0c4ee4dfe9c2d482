"""The keep-alive policy on a real gunicorn (docs/contract.md, "Keep-alive connections").

gunicorn.conf.py sets it (the `keepalive` setting and a `pre_request` hook),
so only a real gunicorn shows it: the last allowed answer on a connection says
`Connection: close` and the connection is closed; an idle connection outlives
gunicorn's 2 s default; and the outbound client opens a new connection when a
server has closed one.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator

import pytest
import urllib3.util.connection
from urllib3.util.connection import create_connection

from app.downstream import DownstreamClient, Hop
from tests.gunicorn_support import Gunicorn, running_gunicorn

LIMIT = 3
GET = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory) -> Iterator[Gunicorn]:
    log_path = tmp_path_factory.mktemp("gunicorn-keep-alive") / "service-c.log"
    env = {"MAX_REQUESTS_PER_CONNECTION": str(LIMIT), "OTEL_SDK_DISABLED": "true", "LOG_LEVEL": "INFO"}
    with running_gunicorn(log_path, env) as running:
        yield running


class Connection:
    """One raw keep-alive connection; answers are read to their Content-Length."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = b""

    def exchange(self, request: bytes) -> bytes:
        """Send one request and return the head of its answer."""
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self._receive()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?im)^content-length:\s*(\d+)", head).group(1))
        while len(self.buffer) < length:
            self._receive()
        self.buffer = self.buffer[length:]
        return head

    def closed_by_server(self) -> bool:
        """True once the server has closed (a read returns end of stream)."""
        return self.sock.recv(1) == b""

    def _receive(self) -> None:
        chunk = self.sock.recv(65536)
        assert chunk, f"the server closed the connection mid-answer; received {self.buffer[:200]!r}"
        self.buffer += chunk


@pytest.fixture
def connection(gunicorn) -> Iterator[Connection]:
    with socket.create_connection(("127.0.0.1", gunicorn.port), timeout=10) as sock:
        yield Connection(sock)


def closes(head: bytes) -> bool:
    return re.search(rb"(?im)^connection:\s*close\s*$", head) is not None


def test_the_last_allowed_answer_closes_the_connection(connection):
    for n in range(1, LIMIT + 1):
        head = connection.exchange(GET)
        assert head.startswith(b"HTTP/1.1 200 "), head
        assert closes(head) == (n == LIMIT), f"answer {n}: {head!r}"
    assert connection.closed_by_server()


def test_an_idle_connection_outlives_gunicorns_default(connection):
    """gunicorn's default keepalive (2 s) would have closed it; the contract's 75 s does not."""
    connection.exchange(GET)
    time.sleep(3)
    assert connection.exchange(GET).startswith(b"HTTP/1.1 200 ")


def test_the_client_dials_again_after_the_server_closes(gunicorn, monkeypatch):
    """Each dial resolves the host again (urllib3's create_connection calls getaddrinfo)."""
    dials = []

    def counting_dial(address, *args, **kwargs):
        dials.append(address)
        return create_connection(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", counting_dial)
    client = DownstreamClient(timeout_ms=5000)
    results = [client.get(f"{gunicorn.base_url}/health", Hop("trace-keep-alive", 0)) for _ in range(2 * LIMIT)]

    assert [result.status for result in results] == [200] * (2 * LIMIT)
    assert len(dials) == 2

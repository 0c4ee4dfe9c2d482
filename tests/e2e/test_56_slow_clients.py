"""docs/contract.md, "Slow clients": one table, each service's own port.

A client has HEAD_S to send its request head and BODY_S after it for the
body; a client still sending then is cut, however steadily it trickles. A
slow client holds only its own connection: while more of them are connected
than service-c has threads (trickling heads, trickling bodies, or keeping
their end open after a `Connection: close` answer), a normal request is
answered before the first of them could have been cut, so it waited on none
of them. (Through the gateway nginx reads requests whole first:
tests/e2e/test_23_gateway_slow_clients.py.)
"""

from __future__ import annotations

import errno
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.support.polling import NotYet, poll_until
from tools.native.stack import SERVICES

# One service's own input handling, through its direct URL: the same code in
# every run mode (CI runs it natively; tools/compose_check --ci leaves it out).
pytestmark = pytest.mark.service_input

# docs/contract.md, "Slow clients".
HEAD_S = 5
BODY_S = 10
# How late a cut may come on a busy 2-core machine (Node looks every 0.25 s).
CUT_SLACK_S = 2
TRICKLE_EVERY_S = 0.5
PIECE_BYTES = 12
SLOW_BODY_S = HEAD_S + 1.5
GUNICORN_CONF = Path(__file__).resolve().parents[2] / "service-c" / "gunicorn.conf.py"
THREADS = int(re.search(r"^threads = (\d+)$", GUNICORN_CONF.read_text(), re.MULTILINE).group(1))
SLOW_CLIENTS = THREADS + 4  # of each kind, more than service-c has threads

# A whole request line, then one header that never ends.
SLOW_HEAD = b"GET /health HTTP/1.1\r\nHost: slow\r\nX-Slow: "
# A whole head, then a body far longer than what trickles in before the cut.
SLOW_BODY = b"POST /test HTTP/1.1\r\nHost: slow\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n["
# A whole request; the client then keeps its end of the connection open.
SLOW_CLOSE = b"GET /health HTTP/1.1\r\nHost: slow\r\nConnection: close\r\n\r\n"
# What a client gets when its head is late (docs/contract.md, "Errors are JSON"):
# Go's server closes without an answer, the other two answer 408 first.
LATE_HEAD = {"service-a": None, "service-b": 408, "service-c": 408}


@dataclass
class SlowClient:
    sock: socket.socket
    connected_at: float
    # What is still to send, a piece a tick; None: one more space each tick, for ever.
    rest: bytes | None = None
    received: bytes = b""
    closed_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def trickle(self) -> None:
        """The next piece: a space, or the next PIECE_BYTES of `rest`."""
        with self.lock:
            if self.rest is None:
                piece = b" "
            else:
                piece, self.rest = self.rest[:PIECE_BYTES], self.rest[PIECE_BYTES:]
            if self.closed_at is None and piece:
                try:
                    self.sock.send(piece)
                except OSError:
                    pass  # cut: look() notices

    def look(self) -> bool:
        """Read what the service sent; True once it has closed the connection."""
        with self.lock:
            while self.closed_at is None:
                try:
                    chunk = self.sock.recv(65536)
                except BlockingIOError:
                    return False
                except OSError as error:
                    if error.errno not in (errno.ECONNRESET, errno.EPIPE):
                        raise
                    chunk = b""
                if not chunk:
                    self.closed_at = time.monotonic()
                self.received += chunk
            return True

    @property
    def seconds_open(self) -> float:
        return self.closed_at - self.connected_at

    def status(self) -> int | None:
        match = re.match(rb"HTTP/1\.1 (\d{3}) ", self.received)
        return int(match.group(1)) if match else None


def connect_slow(base_url: str, first_bytes: bytes, rest: bytes | None = None) -> SlowClient:
    target = urlsplit(base_url)
    connected_at = time.monotonic()  # before the service can start its clock
    sock = socket.create_connection((target.hostname, target.port), timeout=10)
    sock.sendall(first_bytes)
    sock.setblocking(False)  # look() only looks; a send of one piece never fills the buffer
    return SlowClient(sock, connected_at, rest)


class Trickler:
    """Keeps every slow client sending a byte every TRICKLE_EVERY_S until it is cut."""

    def __init__(self) -> None:
        self.clients: list[SlowClient] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Trickler":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()
        for client in self.clients:
            client.sock.close()

    def _run(self) -> None:
        while not self._stop.wait(TRICKLE_EVERY_S):  # the clients' pace, not a wait for the service
            for client in list(self.clients):
                client.trickle()

    def open(self) -> list[SlowClient]:
        return [client for client in self.clients if not client.look()]

    def all_cut(self) -> bool | NotYet:
        still = self.open()
        return True if not still else NotYet(f"{len(still)} of {len(self.clients)} slow clients still connected")


def check_cut(client: SlowClient, within_s: float, answers: set[int | None]) -> None:
    assert client.seconds_open <= within_s, f"cut after {client.seconds_open:.1f} s, want at most {within_s} s"
    assert client.status() in answers, f"answered {client.received[:300]!r}"
    if client.status() == 408:
        head, _, body = client.received.partition(b"\r\n\r\n")
        answer = json.loads(body)
        assert answer["error"] == "request_timeout", answer
        assert re.search(rb"(?im)^x-trace-id: " + re.escape(answer["trace_id"].encode()) + rb"\r?$", head), head


# How a client misses the head deadline: it trickles a head that never ends,
# or sends nothing at all (the deadline runs from a new connection's accept).
LATE_HEADS = {"a head still arriving": (SLOW_HEAD, None), "nothing sent": (b"", b"")}


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("late", LATE_HEADS)
def test_a_head_not_whole_at_the_head_deadline_is_cut(stack, service, late):
    url = stack.service_urls[service]
    with Trickler() as trickler:
        client = connect_slow(url, *LATE_HEADS[late])
        trickler.clients.append(client)
        poll_until(trickler.all_cut, timeout=HEAD_S + CUT_SLACK_S, interval=0.05,
                   describe=f"{service} to cut a client whose head is not whole after {HEAD_S} s ({late})")
    # Not sooner: the client had its HEAD_S.
    assert client.seconds_open >= HEAD_S, f"cut after {client.seconds_open:.1f} s"
    check_cut(client, HEAD_S + CUT_SLACK_S, {LATE_HEAD[service]})


@pytest.mark.parametrize("service", SERVICES)
def test_a_head_sent_slowly_within_the_deadline_is_served(stack, service):
    url = stack.service_urls[service]
    request = f"GET /health HTTP/1.1\r\nHost: {urlsplit(url).netloc}\r\nConnection: close\r\n\r\n".encode()
    with Trickler() as trickler:
        # A piece each tick: the head takes about half the head deadline.
        client = connect_slow(url, request[:PIECE_BYTES], rest=request[PIECE_BYTES:])
        trickler.clients.append(client)
        poll_until(trickler.all_cut, timeout=HEAD_S + CUT_SLACK_S, interval=0.05,
                   describe=f"{service} to answer a head sent slowly, and close")
    assert client.status() == 200, client.received[:300]
    ticks = -(-(len(request) - PIECE_BYTES) // PIECE_BYTES)
    assert client.seconds_open >= TRICKLE_EVERY_S * (ticks - 1), "answered before the head was whole"


@pytest.mark.parametrize("service", SERVICES)
def test_a_body_sent_slowly_after_the_head_deadline_within_its_own_is_served(stack, service):
    stack.require_conformance_endpoint()  # the one route that reads a body
    url = stack.service_urls[service]
    # The body's last piece comes about SLOW_BODY_S after the head: past the
    # head deadline, well within the body's.
    body = b"[" + b" " * (int(SLOW_BODY_S / TRICKLE_EVERY_S) * PIECE_BYTES - 2) + b"]"
    head = (f"POST /test HTTP/1.1\r\nHost: {urlsplit(url).netloc}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    with Trickler() as trickler:
        client = connect_slow(url, head, rest=body)
        trickler.clients.append(client)
        poll_until(trickler.all_cut, timeout=BODY_S + CUT_SLACK_S, interval=0.05,
                   describe=f"{service} to answer a body sent slowly, and close")
    assert client.status() == 200, client.received[:300]
    assert client.seconds_open > HEAD_S, f"answered after {client.seconds_open:.1f} s: the body came sooner"


@pytest.mark.parametrize("service", SERVICES)
def test_slow_clients_hold_nothing_a_normal_request_needs(stack, service):
    stack.require_conformance_endpoint()  # the slow bodies go to POST /test, the one route that reads a body
    url = stack.service_urls[service]
    closers: list[SlowClient] = []
    with Trickler() as trickler:
        heads = [connect_slow(url, SLOW_HEAD) for _ in range(SLOW_CLIENTS)]
        bodies = [connect_slow(url, SLOW_BODY) for _ in range(SLOW_CLIENTS)]
        trickler.clients += heads + bodies
        try:
            closers += [connect_slow(url, SLOW_CLOSE, rest=b"") for _ in range(SLOW_CLIENTS)]
            # The first slow client can be cut HEAD_S after it connected: an
            # answer before then waited on none of them.
            first_cut = heads[0].connected_at + HEAD_S
            try:
                response = requests.get(f"{url}/health", timeout=first_cut - time.monotonic())
            except requests.Timeout:
                pytest.fail(f"{service} did not answer a normal request while {3 * SLOW_CLIENTS} slow clients "
                            f"were connected: it waited on them")
            answered = time.monotonic()
            assert response.status_code == 200, response.text[:300]
            still = trickler.open()
            assert len(still) == 2 * SLOW_CLIENTS, (
                f"{2 * SLOW_CLIENTS - len(still)} slow clients were cut before the normal request was answered "
                f"{answered - heads[0].connected_at:.1f} s after they connected")
            poll_until(lambda: all(client.look() for client in closers), timeout=CUT_SLACK_S, interval=0.05,
                       describe=f"{service} to answer and close each complete request")
            assert {client.status() for client in closers} == {200}
        finally:
            for client in closers:
                client.sock.close()

        poll_until(trickler.all_cut, timeout=bodies[-1].connected_at + BODY_S + CUT_SLACK_S - time.monotonic(),
                   interval=0.1, describe=f"{service} to cut every slow client")
    for client in heads:
        check_cut(client, HEAD_S + CUT_SLACK_S, {LATE_HEAD[service]})
    for client in bodies:
        # Not sooner: each had its BODY_S after its head.
        assert client.seconds_open >= BODY_S, f"a slow body was cut after {client.seconds_open:.1f} s"
        check_cut(client, BODY_S + CUT_SLACK_S, {None, 400})

"""docs/contract.md, "Keep-alive connections": one table, each service's own port.

A service answers the last request a connection may carry with
`Connection: close` and then closes the connection, so its callers reconnect
and resolve its name again. An idle connection stays open longer than any
caller's pool keeps one and is closed at the service's own idle timeout.
Requests go to /health: a passing health check writes no log line."""

from __future__ import annotations

import socket
import time
from concurrent.futures import Future, ThreadPoolExecutor
from http.client import HTTPResponse
from typing import Iterator
from urllib.parse import urlsplit

import pytest

from tools.native.stack import SERVICES

# docs/contract.md, "Keep-alive connections" (the stack runs with the defaults).
MAX_REQUESTS_PER_CONNECTION = 5
CALLERS_IDLE_S = 60  # nginx's upstream keepalive_timeout and service-a's pool
SERVER_IDLE_S = 75
# Node closes 1 s after the timeout it advertises; gunicorn looks once a second.
IDLE_SLACK_S = 5
ANSWER_TIMEOUT_S = 15


def health_request(base_url: str) -> bytes:
    """GET /health without a Connection header: HTTP/1.1 keeps the connection."""
    return f"GET /health HTTP/1.1\r\nHost: {urlsplit(base_url).netloc}\r\n\r\n".encode()


def connect(base_url: str) -> socket.socket:
    target = urlsplit(base_url)
    return socket.create_connection((target.hostname, target.port), timeout=ANSWER_TIMEOUT_S)


def get_health(sock: socket.socket, base_url: str) -> HTTPResponse:
    """One request on `sock`, its answer read whole, so the next one can follow."""
    sock.sendall(health_request(base_url))
    response = HTTPResponse(sock, method="GET")
    response.begin()
    response.read()
    response.close()  # the reader over the socket, not the socket
    return response


def says_close(response: HTTPResponse) -> bool:
    options = (response.getheader("Connection") or "").split(",")
    return "close" in {option.strip().lower() for option in options}


def bytes_until_closed(sock: socket.socket) -> bytes:
    """Everything the server still sends before it closes the connection."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass  # closed with our unread request still queued: closed all the same
    except TimeoutError:
        pytest.fail(f"the connection is still open after {sock.gettimeout():.0f} s; received {received[:200]!r}")
    return received


@pytest.mark.parametrize("service", SERVICES)
def test_the_last_allowed_answer_closes_the_connection(stack, service):
    url = stack.service_urls[service]
    with connect(url) as sock:
        for n in range(1, MAX_REQUESTS_PER_CONNECTION + 1):
            response = get_health(sock, url)
            assert response.status == 200, f"answer {n}: {response.status}"
            last = n == MAX_REQUESTS_PER_CONNECTION
            assert says_close(response) == last, f"answer {n}: Connection: {response.getheader('Connection')!r}"

        # One request more: the server has closed, or closes without answering it.
        try:
            sock.sendall(health_request(url))
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert bytes_until_closed(sock) == b""


def seconds_until_closed_when_idle(base_url: str) -> float:
    """One answer, then silence: how long the service keeps the idle connection."""
    with connect(base_url) as sock:
        get_health(sock, base_url)
        answered = time.monotonic()
        sock.settimeout(SERVER_IDLE_S + IDLE_SLACK_S)
        assert bytes_until_closed(sock) == b""
        return time.monotonic() - answered


@pytest.fixture(scope="module")
def idle_connections(stack) -> Iterator[dict[str, Future[float]]]:
    """Every service idles at once, so the table waits its ~75 s once, not per row."""
    known = [service for service in SERVICES if service in stack.service_urls]
    with ThreadPoolExecutor(max_workers=len(SERVICES)) as pool:
        yield {service: pool.submit(seconds_until_closed_when_idle, stack.service_urls[service])
               for service in known}


@pytest.mark.parametrize("service", SERVICES)
def test_an_idle_connection_outlives_the_callers_pools(stack, service, idle_connections):
    stack.service_urls[service]  # skips when this stack's service port is unknown
    closed_after = idle_connections[service].result()

    assert closed_after > CALLERS_IDLE_S, f"closed after {closed_after:.1f} s: callers may still be reusing it"
    assert SERVER_IDLE_S - 1 <= closed_after <= SERVER_IDLE_S + IDLE_SLACK_S, \
        f"closed after {closed_after:.1f} s, want the contract's {SERVER_IDLE_S} s"

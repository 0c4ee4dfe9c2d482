"""Slow clients cannot starve the gateway: hundreds of connections that never
finish their headers leave normal requests working, and each is cut off by the
gateway's timeouts; a body that stops short of its Content-Length ends in an
answer or a closed connection, never a hang."""

from __future__ import annotations

import errno
import secrets
import socket
from urllib.parse import urlsplit

import pytest
import requests

from tests.support import raw_http
from tests.support.logs import json_lines
from tests.support.polling import NotYet, poll_until

SLOW_CLIENTS = 600
NORMAL_REQUESTS = 10
# client_header_timeout / client_body_timeout are 10 s; the rest is a busy machine's margin.
CUT_OFF_DEADLINE = 60


def held_open(sock: socket.socket) -> bool:
    """True while the server keeps the connection open without answering."""
    try:
        data = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return True
    except OSError as error:
        if error.errno in (errno.ECONNRESET, errno.EPIPE):
            return False
        raise
    return False if data == b"" else NotYet(f"the gateway answered a slow client: {data!r}")


def test_normal_requests_succeed_while_hundreds_of_clients_trickle_headers(stack):
    target = urlsplit(stack.gateway_url)
    slow: list[socket.socket] = []
    try:
        for _ in range(SLOW_CLIENTS):
            sock = socket.create_connection((target.hostname, target.port), timeout=10)
            # A whole request line, then one header that never ends.
            sock.sendall(b"GET /service-a/api/process HTTP/1.1\r\nHost: gateway\r\nX-Slow: ")
            # Non-blocking, so held_open only looks (a socket with a timeout would wait first).
            sock.setblocking(False)
            slow.append(sock)

        for _ in range(NORMAL_REQUESTS):
            response = requests.get(f"{stack.gateway_url}/service-a/api/process", timeout=10)
            assert response.status_code == 200, response.text[:300]
        still_held = sum(1 for sock in slow if held_open(sock) is True)
        assert still_held == SLOW_CLIENTS, (
            f"only {still_held} of {SLOW_CLIENTS} slow clients were still connected after the normal requests: "
            "the gateway dropped some (out of connection slots?) or the machine was slower than the 10 s "
            "header timeout")

        def all_cut_off():
            held = sum(1 for sock in slow if held_open(sock))
            return True if held == 0 else NotYet(f"{held} slow clients still connected")

        poll_until(all_cut_off, timeout=CUT_OFF_DEADLINE, interval=1, describe="the gateway to cut off every slow client")
    finally:
        for sock in slow:
            sock.close()
    assert requests.get(f"{stack.gateway_url}/health", timeout=10).status_code == 200


# method -> what the gateway may do with a body that stops short of its Content-Length.
SHORT_BODY = {
    # Proxied: nginx reads the whole body first, gives up after client_body_timeout,
    # logs 408 and closes the connection (nginx never answers a timed-out request).
    "GET": {"answers": {408, 400}, "logged": 408},
    # Refused before the body matters.
    "POST": {"answers": {405}, "logged": 405},
}


@pytest.mark.parametrize("method", SHORT_BODY)
def test_body_shorter_than_content_length_never_hangs(stack, method):
    x_trace_id = f"short-body-{secrets.token_hex(4)}"
    request = (f"{method} /service-a/api/process HTTP/1.1\r\nHost: gateway\r\nX-Trace-ID: {x_trace_id}\r\n"
               "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n[1, 2, 3]").encode()
    try:
        response = raw_http.exchange(stack.gateway_url, request, timeout=CUT_OFF_DEADLINE)
    except ConnectionError:
        response = None  # closed without an answer: allowed, and never a hang
    if response is not None:
        assert response.status in SHORT_BODY[method]["answers"], f"{response.status}: {response.body[:300]!r}"
        assert response.json()["service"] == "gateway" and response.json()["trace_id"] == x_trace_id

    if stack.log_dir is None:
        return

    def logged():
        mine = [line for line in json_lines(stack.log_path("gateway")) if line.get("x_trace_id") == x_trace_id]
        return mine or NotYet("no gateway log line with this X-Trace-ID yet")

    [line] = poll_until(logged, timeout=CUT_OFF_DEADLINE, describe="the gateway's log line for the short body")
    assert line["status"] == SHORT_BODY[method]["logged"], line

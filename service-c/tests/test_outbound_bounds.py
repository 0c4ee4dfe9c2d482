"""docs/contract.md, "Outbound calls" and the URL rule of "Input rules", through POST /test.

The test app's DOWNSTREAM_TIMEOUT_MS is 500 (conftest.py).
"""

from __future__ import annotations

import threading
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.downstream import MAX_ANSWER_BYTES

DEADLINE_S = 0.5
# How long a dripping answer goes on: far beyond the deadline, so a call that
# is not cut waits it out and fails the row.
DRIP_FOR_S = 5.0
ENDLESS_BYTES = 64 << 20


@dataclass
class HostileServer:
    """A target that answers as a broken or hostile one might; records "path[ Authorization]"."""

    host: str
    received: list[str] = field(default_factory=list)
    endless_bytes_sent: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def hostile_server() -> Iterator[HostileServer]:
    state: HostileServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            auth = self.headers.get("Authorization")
            state.received.append(f"{self.path} {auth}" if auth else self.path)
            answer = getattr(self, "answer_" + self.path.strip("/").replace("-", "_"), self.answer_ok)
            try:
                answer()
            except OSError:
                pass  # the client left: what the bounds are for

        do_GET = do_POST  # a followed 302 comes back as a GET

        def answer_ok(self) -> None:
            self.answer(200, b"{}")

        def answer_redirect_302(self) -> None:
            self.answer(302, b"", Location="/landed")

        def answer_redirect_307(self) -> None:
            self.answer(307, b"", Location="/landed")

        def answer_exactly_1MiB(self) -> None:
            self.answer(200, b"a" * MAX_ANSWER_BYTES)

        def answer_1MiB_and_1(self) -> None:
            self.answer(200, b"a" * (MAX_ANSWER_BYTES + 1))

        def answer_endless(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(ENDLESS_BYTES))
            self.end_headers()
            chunk = b"a" * (64 << 10)
            while state.endless_bytes_sent < ENDLESS_BYTES:
                self.wfile.write(chunk)
                state.endless_bytes_sent += len(chunk)

        def answer_drip_body(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.drip()

        def answer_stall_body(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"a")
            self.wfile.flush()
            state.stopping.wait(DRIP_FOR_S)

        def answer_drip_headers(self) -> None:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Drip: ")
            self.drip()

        def answer(self, status: int, body: bytes, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def drip(self) -> None:
            """One byte every 50 ms until the client leaves (OSError) or DRIP_FOR_S passes."""
            until = time.monotonic() + DRIP_FOR_S
            while time.monotonic() < until and not state.stopping.wait(0.05):
                self.wfile.write(b"a")
                self.wfile.flush()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = HostileServer(host=f"127.0.0.1:{server.server_address[1]}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    state.stopping.set()
    server.shutdown()
    server.server_close()


def post_test(client, url: str):
    """POST /test with one call to `url`, written into the JSON text as is (escapes included)."""
    return client.post("/test", data=f'[{{"url": "{url}", "arguments": []}}]'.encode(),
                       content_type="application/json")


def failed_calls(log_lines) -> list[tuple]:
    return [(line["error"], line.get("downstream_status"))
            for line in log_lines() if line["message"] == "conformance call failed"]


# url: JSON string content, {host} the target's; answer: POST /test's status;
# outcome: the failed call's logged (error, status), None when it succeeded or
# was never made; received: what the target got.
@pytest.mark.parametrize(("url", "answer", "outcome", "received"), [
    pytest.param("http://{host}/redirect-302", 200, ("bad_status", 302), ["/redirect-302"], id="302 not followed"),
    pytest.param("http://{host}/redirect-307", 200, ("bad_status", 307), ["/redirect-307"], id="307 not followed"),
    pytest.param("http://{host}/exactly-1MiB", 200, None, ["/exactly-1MiB"], id="exactly 1 MiB is read"),
    pytest.param("http://{host}/1MiB-and-1", 200, ("invalid_response", 200), ["/1MiB-and-1"], id="over 1 MiB is cut"),
    pytest.param("http://{host}/drip-body", 200, ("timeout", 200), ["/drip-body"], id="dripping body cut at deadline"),
    pytest.param("http://{host}/stall-body", 200, ("timeout", 200), ["/stall-body"], id="stalled body cut at deadline"),
    pytest.param("http://{host}/drip-headers", 200, ("timeout", None), ["/drip-headers"],
                 id="dripping headers cut at deadline"),
    pytest.param("http://u:\\ud800@{host}/credentials", 400, None, [], id="password a lone surrogate"),
    pytest.param("http://u:%E2%82%AC@{host}/credentials", 400, None, [], id="password a percent-encoded euro"),
    pytest.param("http://user@{host}/credentials", 400, None, [], id="user name alone"),
    pytest.param("http://:@{host}/no-credentials", 200, None, ["/no-credentials"], id="empty user info no credential"),
])
def test_outbound_call_bounds(client, hostile_server, log_lines, url, answer, outcome, received):
    started = time.monotonic()
    response = post_test(client, url.replace("{host}", hostile_server.host))
    elapsed = time.monotonic() - started

    assert response.status_code == answer
    if answer == 400:
        assert response.get_json()["error"] == "invalid_body"
    # Generous for a busy machine, and far below DRIP_FOR_S.
    assert elapsed < DEADLINE_S + 1.5, f"the call took {elapsed:.2f} s, its deadline is {DEADLINE_S} s"
    assert hostile_server.received == received
    assert failed_calls(log_lines) == ([] if outcome is None else [outcome])


def test_an_endless_answer_is_cut_and_the_worker_holds_at_most_the_bound(client, hostile_server, log_lines):
    """The body is streamed and dropped past 1 MiB, never read whole (a 300 MB answer took 918 MB)."""
    tracemalloc.start()
    try:
        response = post_test(client, f"http://{hostile_server.host}/endless")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 4 * MAX_ANSWER_BYTES, f"{peak / 2**20:.1f} MiB allocated at the peak"
    assert hostile_server.endless_bytes_sent < ENDLESS_BYTES, "the answer was read to its end"
    assert response.status_code == 200
    assert failed_calls(log_lines) == [("invalid_response", 200)]


def test_a_host_name_urllib3_cannot_encode_is_an_unreachable_call(client, log_lines):
    """urllib3 raises LocationParseError, not a requests error, for a 64+ character label: never a 500."""
    response = post_test(client, f"http://{'a' * 64}.invalid/")

    assert response.status_code == 200
    assert failed_calls(log_lines) == [("unreachable", None)]

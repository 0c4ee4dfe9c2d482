"""docs/contract.md, "Outbound calls": what only service-c's client needs
checked. The rules themselves (redirects, 1 MiB, the deadline, credentials)
are rows of tests/e2e/test_57_outbound_bounds.py, run against all three
services; here is what an e2e row cannot see: how much memory the worker
holds, and urllib3's own refusal of a host name.
"""

from __future__ import annotations

import threading
import tracemalloc
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.downstream import MAX_ANSWER_BYTES

ENDLESS_BYTES = 64 << 20


class EndlessTarget(ThreadingHTTPServer):
    """Answers every POST with a 64 MiB body, counting the bytes it sent."""

    daemon_threads = True
    bytes_sent = 0


@pytest.fixture
def endless_target() -> Iterator[EndlessTarget]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", str(ENDLESS_BYTES))
            self.end_headers()
            chunk = b"a" * (64 << 10)
            try:
                while server.bytes_sent < ENDLESS_BYTES:
                    self.wfile.write(chunk)
                    server.bytes_sent += len(chunk)
            except OSError:
                pass  # the client left: what the bound is for

        def log_message(self, *args) -> None:
            pass

    server = EndlessTarget(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def post_test(client, url: str):
    return client.post("/test", data=f'[{{"url": "{url}", "arguments": []}}]'.encode(),
                       content_type="application/json")


def failed_calls(log_lines) -> list[tuple]:
    return [(line["error"], line.get("downstream_status"))
            for line in log_lines() if line["message"] == "conformance call failed"]


def test_an_endless_answer_is_cut_and_the_worker_holds_at_most_the_bound(client, endless_target, log_lines):
    """The body is streamed and dropped past 1 MiB, never read whole (a 300 MB answer took 918 MB)."""
    host, port = endless_target.server_address[:2]
    tracemalloc.start()
    try:
        response = post_test(client, f"http://{host}:{port}/endless")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 4 * MAX_ANSWER_BYTES, f"{peak / 2**20:.1f} MiB allocated at the peak"
    assert endless_target.bytes_sent < ENDLESS_BYTES, "the answer was read to its end"
    assert response.status_code == 200
    assert failed_calls(log_lines) == [("invalid_response", 200)]


def test_a_host_name_urllib3_cannot_encode_is_an_unreachable_call(client, log_lines):
    """urllib3 raises LocationParseError, not a requests error, for a 64+ character label: never a 500."""
    response = post_test(client, f"http://{'a' * 64}.invalid/")

    assert response.status_code == 200
    assert failed_calls(log_lines) == [("unreachable", None)]

"""A local HTTP server that answers the way a broken or hostile target might:
the far end of a service's outbound call in the outbound-bounds table
(docs/contract.md, "Outbound calls"). The path names the misbehaviour.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler

from tests.support.recording_server import LocalServer

MAX_ANSWER_BYTES = 1 << 20  # docs/contract.md, "Outbound calls": 1 MiB
# How long a dripping or stalled answer goes on: far beyond any deadline, so a
# call that is not cut waits it out and the row fails on its time bound.
HOLD_FOR_S = 30.0


def _fixed(status: int, body: bytes = b"", **headers: str):
    return lambda handler: handler.answer(status, body, headers)


# path -> what the target does
ANSWERS = {
    "/redirect-302": _fixed(302, b'{"moved": true}', Location="/landed"),
    "/redirect-307": _fixed(307, Location="/landed"),
    "/exactly-1MiB": _fixed(200, b"a" * MAX_ANSWER_BYTES),
    "/1MiB-and-1": _fixed(200, b"a" * (MAX_ANSWER_BYTES + 1)),
    "/500-with-code": _fixed(500, b'{"error": "simulated_failure"}'),
    "/500-json-without-code": _fixed(500, b"{}"),
    "/502-html": _fixed(502, b"<html>Bad Gateway</html>"),
    "/503-empty": _fixed(503),
    "/drip-body": lambda handler: handler.drip_body(),
    "/stall-body": lambda handler: handler.stall_body(),
    "/drip-headers": lambda handler: handler.drip_headers(),
}


class MisbehavingTarget(LocalServer):
    """Records (path, Authorization or None) of every request in arrival order."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str | None]] = []
        self._stopping = threading.Event()
        super().__init__(self._handler_class())

    def __exit__(self, *exc) -> None:
        self._stopping.set()  # ends the answers still holding a connection
        super().__exit__(*exc)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        target = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target.received.append((self.path, self.headers.get("Authorization")))
                try:
                    ANSWERS.get(self.path, _fixed(200, b"{}"))(self)
                except OSError:
                    pass  # the client left: what the bounds are for

            do_GET = do_POST  # a followed 302 comes back as a GET

            def answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def drip_body(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                self.drip()

            def stall_body(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                self.wfile.write(b"a")
                self.wfile.flush()
                target._stopping.wait(HOLD_FOR_S)

            def drip_headers(self) -> None:
                self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Drip: ")
                self.drip()

            def drip(self) -> None:
                """One byte every 50 ms until the client leaves (OSError), the
                server stops or HOLD_FOR_S passes: no per-read timeout ever fires."""
                for _ in range(int(HOLD_FOR_S / 0.05)):
                    if target._stopping.wait(0.05):
                        return
                    self.wfile.write(b"a")
                    self.wfile.flush()

            def log_message(self, *_args) -> None:
                pass

        return Handler

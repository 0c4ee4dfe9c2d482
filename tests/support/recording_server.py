"""A tiny local HTTP server that records every request exactly as it arrived.

Used as the far end of the services' outbound calls (to see the raw header
lines they send) and as a stand-in trace store in the store-client unit tests.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    header_lines: list[tuple[str, str]]  # in arrival order, duplicates kept
    body: bytes

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.header_lines if key.lower() == name.lower()]


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b"{}"
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


Responder = Callable[[RecordedRequest], Reply]


def answer_empty_json(_request: RecordedRequest) -> Reply:
    return Reply()


class LocalServer:
    """Context manager: serves `handler` on 127.0.0.1 on a free port in a thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]):
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def host(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class RecordingServer(LocalServer):
    """Records every request; answers with what `responder` says."""

    def __init__(self, responder: Responder = answer_empty_json):
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._responder = responder
        super().__init__(self._handler_class())

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def recorded(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self.requests)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                split = urlsplit(self.path)
                request = RecordedRequest(
                    method=self.command,
                    path=split.path,
                    query=parse_qs(split.query, keep_blank_values=True),
                    header_lines=list(self.headers.items()),
                    body=self.rfile.read(length) if length else b"",
                )
                with server._lock:
                    server.requests.append(request)
                reply = server._responder(request)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)

            # Every method is recorded: as the far end of a forbidden call, any request counts.
            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _handle

            def log_message(self, *_args) -> None:
                pass  # keep pytest output clean; requests are recorded instead

        return Handler

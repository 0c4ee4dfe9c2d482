"""Send HTTP requests byte for byte as written.

`requests` merges headers given as a dict and refuses values with CR or LF;
http.client validates values too. The duplicate-traceparent and hostile-header
tests need repeated header lines and malformed values on the wire, and the
gateway tests need request lines no client library would write (a space or a
control byte in the path, `*`, paths a library would normalise, methods,
paths and a Host that are not UTF-8), so the request is written to a socket
by hand and only the answer is parsed by http.client.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from http.client import HTTPResponse
from urllib.parse import urlsplit


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def json(self):
        return json.loads(self.body)

    def is_json(self) -> bool:
        try:
            self.json()
        except ValueError:
            return False
        return True


def _encode(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def exchange(base_url: str, request: bytes, *, head: bool = False, timeout: float = 15.0) -> RawResponse:
    """Write `request` (the whole message, as bytes) on a fresh connection and
    read one answer. `head`: the request was a HEAD, so the answer has no body.
    A server that closes without answering raises ConnectionError (http.client's
    RemoteDisconnected is one); one that stays silent past `timeout` raises
    TimeoutError."""
    target = urlsplit(base_url)
    with socket.create_connection((target.hostname, target.port), timeout=timeout) as sock:
        sock.sendall(request)
        response = HTTPResponse(sock, method="HEAD" if head else "GET")
        response.begin()
        try:
            return RawResponse(response.status, response.getheaders(), response.read())
        finally:
            response.close()


# `host=NO_HOST`: a request without a Host line.
NO_HOST = object()


def build_request(base_url: str, method: str | bytes, path: str | bytes,
                  header_lines: list[tuple[str, str | bytes]], body: bytes = b"",
                  host: str | bytes | None = None, version: str = "HTTP/1.1") -> bytes:
    """A request with Host (the base URL's unless `host` is given or NO_HOST), the given
    header lines in order, Content-Length when there is a body (or the method
    expects one) and `Connection: close`. Method, path and `version` are written
    as given: bytes for a request line that is not ASCII."""
    request = bytearray(_encode(method) + b" " + _encode(path) + b" " + version.encode() + b"\r\n")
    if host is not NO_HOST:
        request += b"Host: " + _encode(urlsplit(base_url).netloc if host is None else host) + b"\r\n"
    for name, value in header_lines:
        request += _encode(name) + b": " + _encode(value) + b"\r\n"
    if body or _encode(method) in (b"POST", b"PUT"):
        request += f"Content-Length: {len(body)}\r\n".encode()
    request += b"Connection: close\r\n\r\n" + body
    return bytes(request)


def send(base_url: str, method: str | bytes, path: str | bytes, header_lines: list[tuple[str, str | bytes]],
         body: bytes = b"", timeout: float = 15.0, host: str | bytes | None = None,
         version: str = "HTTP/1.1") -> RawResponse:
    """One request on a fresh connection; header lines are sent in order, unchecked."""
    request = build_request(base_url, method, path, header_lines, body, host=host, version=version)
    return exchange(base_url, request, head=_encode(method) == b"HEAD", timeout=timeout)

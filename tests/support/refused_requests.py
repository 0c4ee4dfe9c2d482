"""Requests the gateway refuses or cannot pass on, each of which makes nginx
write an error-log entry that quotes the request line (and, for the last, the
upstream URL): the cases where a credential in the query string could reach a
file nginx writes. Each takes the request target, query string included."""

from __future__ import annotations


def too_large(target: str) -> bytes:
    """413: a Content-Length over client_max_body_size (64k), "too large body"."""
    return (f"GET {target} HTTP/1.1\r\nHost: gateway\r\nContent-Length: 100000\r\n"
            "Connection: close\r\n\r\n").encode()


def bad_chunked(target: str) -> bytes:
    """400: a chunk size that is not hex."""
    return (f"GET {target} HTTP/1.1\r\nHost: gateway\r\nTransfer-Encoding: chunked\r\n"
            "Connection: close\r\n\r\nzz\r\nnot a chunk\r\n").encode()


def plain(target: str) -> bytes:
    """An ordinary request: a 502 "connect() failed" when its service is down."""
    return f"GET {target} HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n".encode()

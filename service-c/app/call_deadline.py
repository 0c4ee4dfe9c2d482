"""One deadline for a whole outbound call (docs/contract.md, "Outbound calls").

requests and urllib3 bound each wait on the socket, not the call (urllib3's
`Timeout` documents it): a target dripping its headers or its body a byte at a
time held a worker thread for as long as it liked. So, as server/body_deadline.py
does for incoming bodies, a timer shuts the call's socket when the deadline
passes, and the blocked read returns at once.

Usage: `with CallDeadline(seconds, grace_s) as deadline:` around the call,
made on a session with `DeadlineAdapter` mounted, which puts every connection
the call uses under the deadline; once the answer's headers are in, hand its
body over with `deadline.guard(response.raw.shutdown)` (urllib3's own way to
stop a read from another thread). `deadline.passed` then says whether the call
ended for lack of time, whatever error that raised.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool

_current: ContextVar[CallDeadline | None] = ContextVar("call_deadline", default=None)


class CallDeadline:
    """Runs `stop` (the latest one guarded) `grace_s` after the deadline, unless the block has ended.

    The grace lets the sockets' own timeouts, when they match the deadline,
    end a silent call first with their clearer error.
    """

    def __init__(self, seconds: float, grace_s: float = 0.0) -> None:
        self._seconds = seconds
        self._expired = False
        self._stop: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds + grace_s, self._expire)
        self._timer.daemon = True

    @property
    def passed(self) -> bool:
        return self._expired or time.monotonic() >= self._ends_at

    def __enter__(self) -> CallDeadline:
        self._token = _current.set(self)
        self._ends_at = time.monotonic() + self._seconds
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        with self._lock:  # a stop running now ends before the connection can serve another call
            self._stop = None
        _current.reset(self._token)

    def guard(self, stop: Callable[[], None]) -> None:
        """From now on the deadline runs `stop`; at once if it has passed already."""
        with self._lock:
            self._stop = stop
            if self._expired:
                _quietly(stop)

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            if self._stop is not None:
                _quietly(self._stop)


def _quietly(stop: Callable[[], None]) -> None:
    try:
        stop()
    # The socket is closed already, or urllib3 has put the connection back in
    # its pool (HTTPResponse.shutdown refuses then): nothing is waiting on it.
    except (OSError, ValueError, RuntimeError):
        pass


class _GuardedConnection:
    """A urllib3 connection whose socket the current call's deadline may shut."""

    sock: socket.socket | None

    def _shut(self) -> None:
        if self.sock is not None:
            self.sock.shutdown(socket.SHUT_RDWR)

    def _guard(self) -> None:
        deadline = _current.get()
        if deadline is not None:
            deadline.guard(self._shut)

    def connect(self) -> None:  # a new connection: TCP, then TLS for https
        self._guard()
        super().connect()  # type: ignore[misc]

    def getresponse(self) -> Any:  # the answer's status line and headers
        self._guard()
        return super().getresponse()  # type: ignore[misc]


class _HTTPConnection(_GuardedConnection, HTTPConnection):
    pass


class _HTTPSConnection(_GuardedConnection, HTTPSConnection):
    pass


_GUARDED = {"http": _HTTPConnection, "https": _HTTPSConnection}


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter, its connections (direct or through a proxy) under the current CallDeadline."""

    def get_connection_with_tls_context(self, *args: Any, **kwargs: Any) -> HTTPConnectionPool:
        pool = super().get_connection_with_tls_context(*args, **kwargs)
        # On the pool itself, not a subclass: errors keep naming urllib3's pools.
        pool.ConnectionCls = _GUARDED[pool.scheme]
        return pool

"""A bounded read of the request body under gunicorn (docs/contract.md, "Input rules": body framing).

gunicorn's gthread worker hands the app a blocking socket without a timeout,
and reads the body from it only when the app asks (`wsgi.input`). So:

- a `Content-Length` larger than what the client sends made the worker
  thread wait for the missing bytes for as long as the client kept the
  connection open, i.e. forever;
- a malformed chunked body made gunicorn raise its own parser errors
  (InvalidChunkSize, NoMoreData, ...) out of `wsgi.input.read()`, and the app
  answered them with a 500.

gunicorn has no setting for either (its `timeout` is the worker heartbeat;
its 5 s data wait covers only the first bytes of a request). A socket timeout
set in a hook would bound each `recv()`, not the read: a client trickling a
byte every few seconds could keep the thread for hours. So this WSGI
middleware wraps `wsgi.input`:

- the first read starts a timer; if the body is not complete READ_DEADLINE_S
  later, the timer shuts the socket's read side, which makes the blocked
  `recv()` return at once as if the client had stopped sending;
- a read that ends short of `Content-Length`, or any error gunicorn's body
  reader raises, becomes Werkzeug's ClientDisconnected, which the app answers
  with 400 `invalid_body` (app/error_handlers.py).

Only reads of the body are affected: requests whose body the app never reads
never start a timer, and a timer is cancelled as soon as the body is complete.
Outside gunicorn (`gunicorn.socket` absent, e.g. Flask's test client) only the
error translation applies. The app itself knows nothing of this: it sits in
wsgi.py, next to the server.

Since the worker reads each request whole before a thread serves it
(request_buffering.py), a read here no longer waits on a client: the timer
stays as a backstop, should gunicorn's two parsers ever disagree on where a
body ends, and the error translation is what answers a body that ended short.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.http.errors import ParseException
from werkzeug.exceptions import ClientDisconnected

# The contract allows at most 10 s; a body of at most 64 KiB that takes longer
# than this is not coming.
READ_DEADLINE_S = 5.0

_INCOMPLETE = "the request body ended before its Content-Length, or its chunked framing is broken"

WSGIApp = Callable[[dict, Callable[..., Any]], Iterable[bytes]]


class BodyReadDeadline:
    """WSGI middleware: `wsgi.input` reads end within `deadline_s` and never raise server errors."""

    def __init__(self, app: WSGIApp, deadline_s: float = READ_DEADLINE_S) -> None:
        self.app = app
        self.deadline_s = deadline_s

    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = _DeadlineInput(environ["wsgi.input"], environ.get("gunicorn.socket"),
                              _content_length(environ), self.deadline_s)
        environ["wsgi.input"] = body
        try:
            return self.app(environ, start_response)
        finally:
            body.finish()


class _DeadlineInput:
    def __init__(self, stream: Any, sock: socket.socket | None, content_length: int | None,
                 deadline_s: float) -> None:
        self._stream = stream
        self._sock = sock
        self._missing = content_length  # bytes still owed, None when the framing is chunked
        self._deadline_s = deadline_s
        self._timer: threading.Timer | None = None
        self._complete = content_length == 0

    def read(self, size: int | None = -1) -> bytes:
        return self._guarded(self._stream.read, size)

    def readline(self, size: int | None = -1) -> bytes:
        return self._guarded(self._stream.readline, size)

    def __iter__(self):
        while line := self.readline():
            yield line

    def finish(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def _guarded(self, read: Callable[[Any], bytes], size: int | None) -> bytes:
        if self._complete:
            return b""
        self._start_timer()
        try:
            data = read(size)
        except (OSError, ParseException):
            self.finish()
            raise ClientDisconnected(_INCOMPLETE) from None
        asked_for_all = size is None or size < 0
        if self._missing is not None:
            self._missing -= len(data)
            if self._missing <= 0:
                self._done()
            elif not data or asked_for_all:
                # The server's reader returns short only when the socket
                # reached its end (the client stopped, or the timer fired).
                self.finish()
                raise ClientDisconnected(_INCOMPLETE)
        elif not data or asked_for_all:
            self._done()  # chunked: the reader returns b"" after the last chunk
        return data

    def _start_timer(self) -> None:
        if self._timer is not None or self._sock is None:
            return
        self._timer = threading.Timer(self._deadline_s, _stop_reading, (self._sock,))
        self._timer.daemon = True
        self._timer.start()

    def _done(self) -> None:
        self._complete = True
        self.finish()


def _stop_reading(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass  # already closed: nothing is waiting on it


def _content_length(environ: dict) -> int | None:
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return None
    try:
        return max(int(environ.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return None

"""gunicorn's gthread worker, but a thread gets a request only once all of it has arrived
(docs/contract.md, "Slow clients").

gthread hands a connection to a thread as soon as its first byte is there,
and the thread then reads the head and the body from a blocking socket, for
as long as the client takes: 20 clients sending a byte a second held all 16
threads, and every other request waited for them.

Here the worker's main loop, which already waits on idle keep-alive
connections without a thread, also reads each request as it comes: it feeds
the bytes to gunicorn's own incremental HTTP/1.1 parser (the one its ASGI
worker uses) and submits the connection to the thread pool only when the
request is complete, its bytes put back in front of the socket for gunicorn's
WSGI parser. A request that can no longer complete (its head not in
HEAD_DEADLINE_S, its body not in BODY_DEADLINE_S after the head, larger than
MAX_BUFFERED_BYTES, malformed, or the client stopped sending) is submitted as
it stands with the socket's read side shut: the thread answers from what
arrived (408 request_timeout for a late head, 400 invalid_body for a late
body, 413, gunicorn's refusals in JSON) or closes the connection, and never
waits on the client.

The main loop must not wait on a client either: gthread's graceful close of
a connection it does not keep waited there, on a blocking socket, for the
client to close its end (finish_request below).

Plain HTTP/1 only, as service-c is served: a TLS handshake would block the
main loop, so the worker refuses to start with TLS.
"""

from __future__ import annotations

import heapq
import itertools
import selectors
import socket
import time
from functools import partial

from gunicorn.asgi.parser import ParseError, PythonProtocol

from app import MAX_BODY_BYTES
from app.server.protocol_refusals import JsonErrorWorker, RequestTimeout

# docs/contract.md, "Slow clients". The head's clock starts when the server
# waits for it: a new connection's accept, or the first byte of the next
# request on a kept-alive one (where this worker sees the connection again).
HEAD_DEADLINE_S = 5.0
BODY_DEADLINE_S = 10.0
# A head of up to 64 KiB (service-a's limit) and the largest body the app
# takes. With gunicorn.conf.py's worker_connections this bounds what clients
# can make the worker hold.
MAX_BUFFERED_BYTES = 64 * 1024 + MAX_BODY_BYTES
_RECV_BYTES = 64 * 1024
# gunicorn's own graceful close: after a last answer, what the client still
# sends is read (and dropped) for up to 2 s or 64 KiB, so that closing does
# not reset the connection under the answer.
LINGER_S = 2.0
LINGER_MAX_BYTES = 64 * 1024
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class _Arrival:
    """One request on its way in: its bytes so far and when it must be complete."""

    def __init__(self, cfg, now: float) -> None:
        self.data = bytearray()
        self.deadline = now + HEAD_DEADLINE_S
        self.head_complete = False
        self.complete = False
        self.too_large = False
        self.waiting = False  # on the poller, with a deadline
        self.wants_continue = False
        self._now = now
        self._parser = PythonProtocol(
            on_headers_complete=self._head_arrived,
            on_message_complete=self._message_arrived,
            limit_request_line=cfg.limit_request_line,
            limit_request_fields=cfg.limit_request_fields,
            limit_request_field_size=cfg.limit_request_field_size,
            permit_unconventional_http_method=cfg.permit_unconventional_http_method,
            permit_unconventional_http_version=cfg.permit_unconventional_http_version,
        )

    def add(self, data: bytes, now: float) -> None:
        """Raises ParseError for a request gunicorn would refuse."""
        self.data += data
        self._now = now
        self._parser.feed(data)
        if not self.complete and len(self.data) >= MAX_BUFFERED_BYTES:
            self.too_large = True

    def _head_arrived(self) -> bool:
        parser = self._parser
        self.head_complete = True
        self.deadline = self._now + BODY_DEADLINE_S
        if (parser.content_length or 0) > MAX_BODY_BYTES:
            self.too_large = True  # the app refuses it (413) without reading it: no need to wait
        # RFC 9110 section 10.1.1: the client may wait for "100 Continue" before sending the body.
        self.wants_continue = parser.http_version >= (1, 1) and any(
            name == b"expect" and value.strip().lower() == b"100-continue" for name, value in parser.headers)
        return False  # read the body too

    def _message_arrived(self) -> None:
        self.complete = True


class RequestBufferingWorker(JsonErrorWorker):
    """gthread (with JSON refusals) reading every request in the main loop before a thread serves it."""

    @classmethod
    def check_config(cls, cfg, log):
        super().check_config(cfg, log)
        if cfg.is_ssl:
            raise RuntimeError("RequestBufferingWorker serves plain HTTP/1 only")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # (when, n, what to do then); what is done checks that it still applies.
        self._timers: list[tuple[float, int, partial]] = []
        self._order = itertools.count()

    # -- reading requests ------------------------------------------------

    def enqueue_req(self, conn) -> None:
        # gthread's one way into the thread pool, for a new connection, a
        # kept-alive one that became readable, and one whose last request left
        # bytes of the next: take the request in here first.
        conn.init()  # the WSGI parser, whose buffer gets the request's bytes
        conn.sock.setblocking(False)
        conn.continue_sent = False
        conn.late = False
        conn.arrival = arrival = _Arrival(self.cfg, time.monotonic())
        if buffered := conn.parser.unreader.take_buffered():
            self._take(conn, buffered)
        if conn.arrival is arrival:
            self._receive(conn)  # mostly the request is there already: no turn of the loop needed
        if conn.arrival is arrival:
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._receive, conn))
            arrival.waiting = True
            self._at(arrival.deadline, partial(self._arrival_due, conn, arrival))

    def _receive(self, conn, _sock=None) -> None:
        try:
            data = conn.sock.recv(min(_RECV_BYTES, MAX_BUFFERED_BYTES - len(conn.arrival.data) + 1))
        except BlockingIOError:
            return
        except OSError:
            data = b""  # reset: the thread finds the socket broken and closes it
        if data:
            self._take(conn, data)
        else:
            self._hand_over(conn, shut=False)  # the client stopped sending: nothing left to wait for

    def _take(self, conn, data: bytes) -> None:
        arrival = conn.arrival
        deadline = arrival.deadline
        try:
            arrival.add(data, time.monotonic())
        except (ParseError, ValueError):
            self._hand_over(conn, shut=True)  # gunicorn's WSGI parser answers it
            return
        if arrival.complete:
            self._hand_over(conn, shut=False)
        elif arrival.too_large:
            self._hand_over(conn, shut=True)
        else:
            if arrival.wants_continue and not conn.continue_sent:
                conn.continue_sent = True
                try:
                    conn.sock.send(_CONTINUE)  # a few bytes on a socket that has sent nothing yet
                except OSError:
                    pass  # the client is gone: its deadline ends it
            if arrival.waiting and arrival.deadline != deadline:
                self._at(arrival.deadline, partial(self._arrival_due, conn, arrival))

    def _arrival_due(self, conn, arrival: _Arrival, now: float) -> None:
        if conn.arrival is arrival and arrival.deadline <= now:
            # A late head is refused (408); a late body goes to the app as it stands (400 invalid_body).
            conn.late = not arrival.head_complete
            self._hand_over(conn, shut=True)

    def _hand_over(self, conn, *, shut: bool) -> None:
        arrival, conn.arrival = conn.arrival, None
        if arrival.waiting:
            self.poller.unregister(conn.sock)
        conn.parser.unreader.unread(bytes(arrival.data))
        arrival.data = bytearray()  # its timer may outlive it for a while
        if shut:
            try:
                conn.sock.shutdown(socket.SHUT_RD)
            except OSError:
                pass  # already gone: the thread finds out
        super().enqueue_req(conn)

    # -- in a thread -----------------------------------------------------

    def handle(self, conn):
        if conn.late:
            # Answered like the server's other refusals (408 request_timeout and a log line).
            self.handle_error(None, conn.sock, conn.client, RequestTimeout())
            return False
        return super().handle(conn)

    def handle_request(self, req, conn):
        if conn.continue_sent:
            req._expected_100_continue = False  # already sent from the main loop, not twice
        return super().handle_request(req, conn)

    # -- closing ---------------------------------------------------------

    def finish_request(self, conn, fs) -> None:
        # gthread's graceful close reads on a blocking socket in its main loop,
        # so clients that keep their end open stall every other connection
        # (docs/tuning-history.md, service-c). Here the reading waits on the poller.
        if fs.cancelled() or fs.exception() is not None or fs.result() is not False:
            super().finish_request(conn, fs)
            return
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(conn)
            return
        conn.sock.setblocking(False)
        conn.drained = 0
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._drain, conn))
        self._at(time.monotonic() + LINGER_S, partial(self._linger_due, conn))

    def _drain(self, conn, _sock=None) -> None:
        try:
            while data := conn.sock.recv(_RECV_BYTES):
                conn.drained += len(data)
                if conn.drained >= LINGER_MAX_BYTES:
                    break
            # the client closed too, or sent more than is worth reading
        except BlockingIOError:
            return
        except OSError:
            pass
        self.poller.unregister(conn.sock)
        self._close(conn)

    def _linger_due(self, conn, _now: float) -> None:
        if conn.sock.fileno() != -1:
            self.poller.unregister(conn.sock)
            self._close(conn)

    def _close(self, conn) -> None:
        self.nr_conns -= 1
        conn.close()

    # -- timers, on gthread's main loop ------------------------------------

    def _at(self, when: float, action: partial) -> None:
        heapq.heappush(self._timers, (when, next(self._order), action))

    def wait_for_and_dispatch_events(self, timeout):
        if self._timers:
            timeout = max(0.0, min(timeout, self._timers[0][0] - time.monotonic()))
        super().wait_for_and_dispatch_events(timeout)

    def murder_pending(self) -> None:
        # Called after every turn of the main loop, while serving and while draining.
        super().murder_pending()
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            heapq.heappop(self._timers)[2](now)

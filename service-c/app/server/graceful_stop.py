"""gunicorn's graceful stop, made to refuse new connections at once.

On SIGTERM the master closes its copy of the listening socket, but every
worker holds another copy until it has drained its own connections. The
kernel socket keeps listening meanwhile: new connections complete the TCP
handshake, wait in the accept backlog that nobody reads, and their callers
hang until the drain ends (the gateway answered 504 after ~10 s).

shutdown() acts on the socket itself, not on one process's descriptor: the
master calls it as soon as SIGTERM arrives, new connections are refused
(ECONNREFUSED) and those still in the backlog are reset, while connections
already accepted keep being served. Only the master's SIGTERM does this: a
worker stopped alone (reload, fewer workers) shares the socket with workers
that keep serving.
"""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Callable, Iterable

_log = logging.getLogger("gunicorn.error")


def refuse_new_connections(listeners: Iterable[object]) -> None:
    """Stop the listening sockets for every process that shares them."""
    for listener in listeners:
        try:
            listener.sock.shutdown(socket.SHUT_RDWR)
        except OSError as error:
            _log.warning("could not stop listening on %s: %s", listener, error)


def refuse_on_term(arbiter) -> None:
    """Wrap the master's SIGTERM handler (gunicorn looks it up by name)."""
    handle_term = arbiter.handle_term

    def refuse_then_stop() -> None:
        refuse_new_connections(arbiter.LISTENERS)
        handle_term()

    arbiter.handle_term = refuse_then_stop


def tolerate_stopped_listener(worker) -> None:
    """A worker can be woken by the stopped listener before its own SIGTERM
    arrives; accept() then fails with EINVAL, which gunicorn would let crash
    the worker and its in-flight requests. Start draining instead."""
    accept: Callable[[socket.socket], None] = worker.accept

    def accept_or_drain(listener: socket.socket) -> None:
        try:
            accept(listener)
        except OSError as error:
            if error.errno != errno.EINVAL:
                raise
            worker.alive = False
            worker.set_accept_enabled(False)

    worker.accept = accept_or_drain

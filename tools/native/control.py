"""Stop and start one component of a running `make up` stack.

The runner listens on a Unix socket, .native/run/control.sock (only the
user who started the stack can reach it). A request is one JSON line,
`{"command": "stop" | "start" | "restart" | "status", "component": name}`;
the answer is one JSON line, `{"ok": bool, "error": str, "status": {...}}`,
sent once the action is complete: a stopped component has exited, a started
one answers its health check. Requests are handled one at a time.

A component stopped this way stays stopped without stopping the stack; one
that exits on its own still stops the whole stack, as before.
"""

from __future__ import annotations

import json
import os
import socket
import socketserver
import threading
from pathlib import Path

from .settings import RUN

SOCKET = RUN / "control.sock"
COMMANDS = ("stop", "start", "restart", "status")
# Generous: stopping waits for a drain (service grace 15 s), starting for health (60 s).
CLIENT_TIMEOUT = 120.0
MAX_REQUEST_BYTES = 4096


class ControlError(RuntimeError):
    pass


def socket_in_use(path: Path) -> bool:
    """True when a runner answers on `path`; a leftover file from a killed runner is not."""
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            return False
    return True


class ControlServer:
    """Serves control requests for `stack` in a background thread."""

    def __init__(self, stack, path: Path | None = None):
        self.stack = stack
        self.path = path or SOCKET
        self._server: socketserver.UnixStreamServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if socket_in_use(self.path):
            raise ControlError(f"another runner is listening on {self.path}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)
        stack = self.stack

        class Handler(socketserver.StreamRequestHandler):
            timeout = 10  # a client that connects and says nothing must not block the next one

            def handle(self) -> None:
                try:
                    line = self.rfile.readline(MAX_REQUEST_BYTES)
                    answer = handle_request(stack, line)
                except (OSError, TimeoutError):
                    return  # the client went away; nothing to answer
                self.wfile.write(json.dumps(answer).encode() + b"\n")

        old_umask = os.umask(0o177)  # socket file 0600: only this user may control the stack
        try:
            self._server = socketserver.UnixStreamServer(str(self.path), Handler)
        finally:
            os.umask(old_umask)
        self._thread = threading.Thread(target=self._server.serve_forever, name="native-control", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving; waits for a request being handled to finish."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self.path.unlink(missing_ok=True)
        self._server = None


def handle_request(stack, line: bytes) -> dict:
    try:
        request = json.loads(line)
        command, component = request["command"], request.get("component")
    except (ValueError, TypeError, KeyError):
        return {"ok": False, "error": 'expected one JSON line {"command": ..., "component": ...}'}
    if command not in COMMANDS:
        return {"ok": False, "error": f"unknown command {command!r}; one of {', '.join(COMMANDS)}"}
    if command != "status" and component not in stack.components:
        return {"ok": False, "error": f"unknown component {component!r}; one of {', '.join(stack.components)}"}
    error = ""
    try:
        if command in ("stop", "restart"):
            stack.stop_component(component)
        if command in ("start", "restart"):
            stack.start_component(component)
    except Exception as failure:  # noqa: BLE001 - reported to the client; the stack keeps running
        error = str(failure) or type(failure).__name__  # some exceptions carry no message
    return {"ok": not error, "error": error, "status": stack.status()}


def send(command: str, component: str | None = None, path: Path | None = None,
         timeout: float = CLIENT_TIMEOUT) -> dict:
    """Client side: one request to the runner, its answer."""
    path = path or SOCKET
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(timeout)
        try:
            client.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError) as error:
            raise ControlError(f"no stack is running (nothing listens on {path}): start it with `make up`") from error
        client.sendall(json.dumps({"command": command, "component": component}).encode() + b"\n")
        with client.makefile("rb") as answer:
            line = answer.readline()
    if not line:
        raise ControlError("the runner closed the connection without answering (is it stopping?)")
    return json.loads(line)

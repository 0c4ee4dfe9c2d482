"""A fake trace store for the client unit tests: a local HTTP server that answers
each path with a committed response fixture and records what was asked."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.support.recording_server import RecordedRequest, RecordingServer, Reply

FIXTURES = Path(__file__).parent / "fixtures"

# Answers (HTTP status, fixture file name) when it matches the request, else None.
Route = Callable[[RecordedRequest], tuple[int, str] | None]


class FakeStore:
    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.server = RecordingServer(self._respond)

    def answer(self, path: str, status: int, fixture: str, **query: str) -> None:
        """Answer `path` (and, if given, only with these query values) with a fixture."""
        def route(request: RecordedRequest) -> tuple[int, str] | None:
            if request.path != path:
                return None
            if any(request.query.get(key) != [value] for key, value in query.items()):
                return None
            return status, fixture
        self.routes.append(route)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [request for request in self.server.recorded() if request.path == path]

    def _respond(self, request: RecordedRequest) -> Reply:
        for route in self.routes:
            match = route(request)
            if match:
                status, fixture = match
                return Reply(status, (FIXTURES / fixture).read_bytes())
        return Reply(404, b"no fixture for this request", "text/plain")


@pytest.fixture
def fake_store() -> Iterator[FakeStore]:
    store = FakeStore()
    with store.server:
        yield store

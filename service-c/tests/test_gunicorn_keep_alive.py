"""The outbound client opens a new connection when a server closes one
(docs/contract.md, "Keep-alive connections"), against a real gunicorn with
its limit. The server's side of the policy (the last allowed answer closes
the connection; the idle timeout) is tests/e2e/test_55_keep_alive.py, on
every service's own port.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import urllib3.util.connection
from urllib3.util.connection import create_connection

from app.downstream import DownstreamClient, Hop
from tests.gunicorn_support import Gunicorn, running_gunicorn

LIMIT = 3


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory) -> Iterator[Gunicorn]:
    log_path = tmp_path_factory.mktemp("gunicorn-keep-alive") / "service-c.log"
    env = {"MAX_REQUESTS_PER_CONNECTION": str(LIMIT), "OTEL_SDK_DISABLED": "true", "LOG_LEVEL": "INFO"}
    with running_gunicorn(log_path, env) as running:
        yield running


def test_the_client_dials_again_after_the_server_closes(gunicorn, monkeypatch):
    """Each dial resolves the host again (urllib3's create_connection calls getaddrinfo)."""
    dials = []

    def counting_dial(address, *args, **kwargs):
        dials.append(address)
        return create_connection(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", counting_dial)
    client = DownstreamClient(timeout_ms=5000)
    results = [client.get(f"{gunicorn.base_url}/health", Hop("trace-keep-alive", 0)) for _ in range(2 * LIMIT)]

    assert [result.status for result in results] == [200] * (2 * LIMIT)
    assert len(dials) == 2

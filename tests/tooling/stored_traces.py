"""Recorded traces of the demo scenarios, read through the real store clients.

tests/stores/fixtures/jaeger_trace_<scenario>.json are answers of the native
stack's Jaeger; tempo_trace_<scenario>.json are the same traces in Tempo's
trace-by-id encoding (see tempo_from_jaeger.py there). Each is served by a
local HTTP server at the path its store's API uses, so a test gets the Trace
exactly as JaegerStore / TempoStore produce it from a live store.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.stores import make_store
from tests.stores.model import Trace
from tests.support.recording_server import RecordedRequest, RecordingServer, Reply

FIXTURES = Path(__file__).resolve().parents[1] / "stores" / "fixtures"
STORE_PATHS = {"jaeger": "/api/v3/traces/{}", "tempo": "/api/v2/traces/{}"}
SCENARIOS = ("parallel", "sequential", "circular", "failure-timeout", "failure-cascade")


def fixture(store: str, scenario: str) -> Path:
    return FIXTURES / f"{store}_trace_{scenario}.json"


def trace_id_of(scenario: str) -> str:
    """The recorded trace's id (the Jaeger recording carries it in hex)."""
    answer = json.loads(fixture("jaeger", scenario).read_text())
    return answer["result"]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"]


def serve(store: str, scenario: str) -> RecordingServer:
    """A server answering the store's trace-by-id path for this recording (404 elsewhere)."""
    path = STORE_PATHS[store].format(trace_id_of(scenario))
    body = fixture(store, scenario).read_bytes()

    def respond(request: RecordedRequest) -> Reply:
        return Reply(200, body) if request.path == path else Reply(404, b"not recorded", "text/plain")

    return RecordingServer(respond)


def load(store: str, scenario: str) -> Trace:
    with serve(store, scenario) as server:
        trace = make_store(store, server.url).get_trace(trace_id_of(scenario))
    assert trace is not None, f"{store} client found no trace in {fixture(store, scenario).name}"
    return trace

"""Shared fixtures: one in-memory tracer provider per test session, an app per test,
captured JSON log lines, and a local HTTP server that records what it receives."""

from __future__ import annotations

import io
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app import logging_config
from app.telemetry import tracing
from app import create_app
from app.config import Settings

LOG_SCHEMA_PATH = Path(__file__).resolve().parents[2] / "observability" / "log-schema.json"


@pytest.fixture(scope="session")
def span_exporter() -> Iterator[InMemorySpanExporter]:
    """The production telemetry setup, with spans kept in memory instead of exported."""
    os.environ.setdefault("OTEL_SERVICE_NAME", "service-c")
    # The sampler every run mode sets (docs/contract.md, "Sampling decision").
    os.environ.setdefault("OTEL_TRACES_SAMPLER", "always_on")
    exporter = InMemorySpanExporter()
    tracing.start(SimpleSpanProcessor(exporter))
    yield exporter
    tracing.stop()


@pytest.fixture
def spans(span_exporter: InMemorySpanExporter) -> InMemorySpanExporter:
    span_exporter.clear()
    return span_exporter


@pytest.fixture
def make_client(spans) -> Callable[..., object]:
    def make(**overrides):
        # POST /test served, as natively and in compose.
        settings = {"downstream_timeout_ms": 500, "conformance_endpoint": True, **overrides}
        app = create_app(Settings(**settings), instrument=tracing.instrument_app)
        return app.test_client()

    return make


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture(scope="session")
def log_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(LOG_SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.fixture
def log_lines(log_validator) -> Iterator[Callable[[], list[dict]]]:
    """Everything logged during the test, formatted as in production, each line schema-checked."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging_config.JsonLineFormatter(service="service-c"))
    handler.addFilter(logging_config.RequestContextFilter())
    handler.addFilter(logging_config.QueryStringFilter())
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)

    def lines() -> list[dict]:
        parsed = []
        for raw in stream.getvalue().splitlines():
            record = json.loads(raw)
            log_validator.validate(record)
            parsed.append(record)
        return parsed

    yield lines
    root.removeHandler(handler)
    root.setLevel(previous_level)


@dataclass
class RecordedRequest:
    method: str
    path: str
    header_lines: list[tuple[str, str]]
    body: bytes

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.header_lines if key.lower() == name.lower()]


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """A threaded local HTTP server for the block; its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class RecordingServer:
    """A local HTTP server that answers every request with `status`/`body` after `delay` seconds."""

    url: str
    requests: list[RecordedRequest] = field(default_factory=list)
    status: int = 200
    body: bytes = b'{"service": "service-a", "status": "ok"}'
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)  # extra response headers
    released: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def recording_server() -> Iterator[RecordingServer]:
    state: RecordingServer

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            state.requests.append(RecordedRequest(
                self.command, self.path, list(self.headers.raw_items()), self.rfile.read(length)))
            if state.delay:
                state.released.wait(state.delay)
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(state.body)))
            for name, value in state.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(state.body)

        do_GET = do_POST = _answer

        def log_message(self, *args) -> None:  # keep test output clean
            pass

    with serving(Handler) as port:
        state = RecordingServer(url=f"http://127.0.0.1:{port}")
        yield state
        state.released.set()


@dataclass
class OtlpReceiver:
    """A stand-in for the Collector's OTLP/HTTP receiver. It answers the statuses of `script`
    first, then 200, and decodes what it accepts as the Collector does: a string that is
    not valid UTF-8 fails to decode and is answered 400."""

    url: str
    script: list[int] = field(default_factory=list)
    requests: int = 0
    received: list[ExportTraceServiceRequest] = field(default_factory=list)

    def spans(self) -> list[ProtoSpan]:
        return [span for request in self.received for resource in request.resource_spans
                for scope in resource.scope_spans for span in scope.spans]


@pytest.fixture
def otlp_receiver() -> Iterator[OtlpReceiver]:
    state: OtlpReceiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests += 1
            status = state.script.pop(0) if state.script else 200
            if status == 200:
                try:
                    state.received.append(ExportTraceServiceRequest.FromString(body))
                except Exception:  # noqa: BLE001 - any decoding failure is the client's fault
                    status = 400
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    with serving(Handler) as port:
        state = OtlpReceiver(url=f"http://127.0.0.1:{port}/v1/traces")
        yield state

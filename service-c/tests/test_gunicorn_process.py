"""service-c as it really runs: gunicorn with its workers, real sockets, SIGTERM.

One test, because starting gunicorn is the expensive part: it serves normal
and hostile requests, drains an in-flight request on SIGTERM, exports its
spans on the way out, exits 0, and every line it wrote is schema-valid JSON.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.gunicorn_support import (
    GUNICORN,
    SERVICE_DIR,
    STARTUP_DEADLINE_S,
    STOP_DEADLINE_S,
    http_get,
    poll,
    raw_exchange,
    running_gunicorn,
)


def raw_request(port: int, data: bytes) -> int | None:
    return raw_exchange(port, data).status


@pytest.fixture
def otlp_sink() -> Iterator[tuple[str, list[ExportTraceServiceRequest]]]:
    """Stands in for the Collector's OTLP/HTTP receiver and keeps what it gets."""
    received: list[ExportTraceServiceRequest] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/v1/traces":
                received.append(ExportTraceServiceRequest.FromString(body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def exported_server_spans(requests_received: list[ExportTraceServiceRequest]) -> dict[str, object]:
    """Server spans by their app.x_trace_id."""
    spans = {}
    for request in requests_received:
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    attributes = {a.key: a.value.string_value for a in span.attributes}
                    if "app.x_trace_id" in attributes:
                        spans[attributes["app.x_trace_id"]] = span
    return spans


def test_gunicorn_end_to_end(tmp_path, otlp_sink, recording_server, log_validator):
    sink_url, exported = otlp_sink
    recording_server.delay = 1.0  # service-a answers slowly: a request is in flight at SIGTERM
    log_path = tmp_path / "service-c.log"
    env = {
        "OTEL_SERVICE_NAME": "service-c",
        "OTEL_EXPORTER_OTLP_ENDPOINT": sink_url,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        # Nothing is exported on schedule: spans can only reach the sink via the shutdown flush.
        "OTEL_BSP_SCHEDULE_DELAY": "600000",
        "SERVICE_A_URL": recording_server.url,
        "DOWNSTREAM_TIMEOUT_MS": "5000",
        "MAX_HOPS": "5",
        "LOG_LEVEL": "INFO",
    }
    with running_gunicorn(log_path, env) as gunicorn:
        port, base, process = gunicorn.port, gunicorn.base_url, gunicorn.process

        # Normal and hostile requests; none may crash a worker or break a log line.
        assert http_get(port, "/api/process", [("X-Trace-ID", "trace-gunicorn-ok")]) == 200
        assert http_get(port, "/health", [("X-Trace-ID", "trace-gunicorn-health")]) == 200
        assert http_get(port, "/api/process?fail=true") == 500
        assert http_get(port, "/health", [("X-Trace-ID", '"quoted",{"json":1}\\')]) == 200
        assert http_get(port, "/health", [("X-Trace-ID", "é\xff"), ("X-Other", "x" * 10_000)]) == 200
        assert http_get(port, "/health", [("X-Trace-ID", "y" * 10_000)]) == 200
        assert http_get(port, "/health", [("X-Big", "z" * 20_000)]) == 431
        assert http_get(port, "/api/process", [("traceparent", f"00-{'a' * 32}-{'b' * 16}-01"),
                                          ("traceparent", f"00-{'c' * 32}-{'d' * 16}-01")]) == 200
        assert http_get(port, "/health", [("X-Hop-Count", '"; drop')]) == 400
        assert 400 <= raw_request(port, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Trace-ID: a\r\n b\r\n\r\n") < 500
        assert 400 <= raw_request(port, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n") < 500
        assert 400 <= raw_request(port, b"\x16\x03\x01 not http at all\r\n\r\n") < 500

        # SIGTERM while a request waits on service-a: it must still complete.
        # Both workers are ready (running_gunicorn), and the request has
        # reached service-a, so the signal meets a request really in flight.
        in_flight: dict[str, object] = {}

        def call_in_flight() -> None:
            try:
                in_flight["response"] = requests.get(
                    f"{base}/api/demo/circular", headers={"X-Trace-ID": "trace-in-flight"}, timeout=15)
            except requests.RequestException as error:
                in_flight["error"] = error

        caller = threading.Thread(target=call_in_flight)
        caller.start()
        poll(lambda: recording_server.requests, 10, "the in-flight call to reach service-a")
        process.send_signal(signal.SIGTERM)
        caller.join(timeout=STOP_DEADLINE_S)
        assert "response" in in_flight, f"the in-flight request did not complete: {in_flight}"
        assert in_flight["response"].status_code == 200
        code = process.wait(timeout=STOP_DEADLINE_S)

    output = log_path.read_text().splitlines()
    assert code == 0, "\n".join(output[-20:])
    records = [json.loads(line) for line in output]
    for record in records:
        log_validator.validate(record)
    messages = [r["message"] for r in records]
    assert "rejected conflicting traceparent headers" in messages
    assert messages.count("request completed") >= 3  # the refused ones; passing health checks write none
    assert not [r for r in records if r["level"] == "ERROR" and r["message"] != "request completed"]

    [call] = recording_server.requests
    assert len(call.values("traceparent")) == 1
    spans = exported_server_spans(exported)
    assert {"trace-gunicorn-ok", "trace-in-flight"} <= set(spans)
    assert "trace-gunicorn-health" not in spans  # docs/contract.md, "Logs": health checks are never traced
    assert call.values("traceparent")[0].split("-")[1] == spans["trace-in-flight"].trace_id.hex()


@pytest.mark.parametrize("bad_env", [{"MAX_HOPS": "abc"}, {"DOWNSTREAM_TIMEOUT_MS": "0"}, {"SERVICE_A_URL": "nope"}])
def test_bad_environment_stops_the_start_with_one_json_line(tmp_path, log_validator, bad_env):
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": "0", **bad_env}
    finished = subprocess.run([str(GUNICORN), "-c", "gunicorn.conf.py"], cwd=SERVICE_DIR, env=env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=STARTUP_DEADLINE_S)
    assert finished.returncode == 1
    records = [json.loads(line) for line in (finished.stdout + finished.stderr).splitlines()]
    for record in records:
        log_validator.validate(record)
    errors = [r["message"] for r in records if r["level"] == "ERROR"]
    assert len(errors) == 1 and errors[0].startswith("invalid configuration: ")
    assert not [r for r in records if r["message"].startswith("Booting worker")]

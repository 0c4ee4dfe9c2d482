"""service-c's graceful stop under a real gunicorn: on SIGTERM new connections
are refused at once while in-flight requests drain, and a request that
outlasts the drain still has its server span ended and exported."""

from __future__ import annotations

import signal
import socket
import threading

import requests

from gunicorn_support import poll, running_gunicorn
from test_gunicorn_process import exported_server_spans, otlp_sink  # noqa: F401 - otlp_sink is a fixture

# The default graceful_timeout (14 s: a 10 s drain, then the span flush).
STOP_DEADLINE_S = 30
REFUSAL_DEADLINE_S = 5  # well inside the 10 s drain: the old behaviour only refused after it


def refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except (ConnectionRefusedError, ConnectionResetError):
        return True
    except OSError:
        return False


def test_sigterm_refuses_new_connections_and_keeps_the_interrupted_span(tmp_path, otlp_sink, recording_server,
                                                                        log_validator):
    sink_url, exported = otlp_sink
    recording_server.delay = 60  # service-a does not answer within the drain
    log_path = tmp_path / "service-c.log"
    env = {
        "OTEL_SERVICE_NAME": "service-c",
        "OTEL_EXPORTER_OTLP_ENDPOINT": sink_url,
        "OTEL_BSP_SCHEDULE_DELAY": "600000",  # spans reach the sink only through the stop's flush
        "SERVICE_A_URL": recording_server.url,
        # Longer than the 10 s drain, shorter than the master's 14 s limit:
        # the abandoned request ends by itself and the worker exits cleanly.
        "DOWNSTREAM_TIMEOUT_MS": "12000",
        "MAX_HOPS": "5",
        "LOG_LEVEL": "INFO",
    }
    with running_gunicorn(log_path, env) as gunicorn:
        def call() -> None:
            try:
                requests.get(f"{gunicorn.base_url}/api/demo/circular", headers={"X-Trace-ID": "trace-too-long"},
                             timeout=30)
            except requests.RequestException:
                pass  # the worker gives up on it: the connection closes without an answer

        caller = threading.Thread(target=call)
        caller.start()
        poll(lambda: recording_server.requests, 10, "the in-flight call to reach service-a")

        gunicorn.process.send_signal(signal.SIGTERM)
        poll(lambda: refused(gunicorn.port), REFUSAL_DEADLINE_S, "new connections to be refused")
        assert caller.is_alive(), "refused only once the drain was over"

        code = gunicorn.process.wait(timeout=STOP_DEADLINE_S)
        caller.join(timeout=30)

    records = gunicorn.records()
    assert code == 0, records[-20:]
    for record in records:
        log_validator.validate(record)
    assert [r for r in records if r["message"] == "ended 1 server spans of requests still in flight"]

    span = exported_server_spans(exported)["trace-too-long"]
    attributes = {a.key: a.value for a in span.attributes}
    assert attributes["app.shutdown.interrupted"].bool_value is True
    assert span.status.code == span.status.STATUS_CODE_ERROR

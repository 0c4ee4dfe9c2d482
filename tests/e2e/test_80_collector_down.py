"""With the Collector stopped the services keep answering normally and log the
export failures; once it is back, new traces reach the store again.

Runs late (file order) because it stops a shared process; it restarts it in
all cases before returning."""

from __future__ import annotations

import requests

from tests.support.logs import json_lines
from tests.support.polling import NotYet, poll_until
from tests.support.store_waits import wait_for_trace
from tools.native.stack import SERVICES
from tools.scenario_table import hop_count, load_scenarios

SCENARIOS = {s["name"]: s for s in load_scenarios()}
ROUNDS = ("parallel", "sequential", "parallel", "sequential")
# Exporters retry for a while (OTLP default timeout 10 s) before the spans
# queued behind a failed export go out; give the first new trace time for that.
RECOVERY_TIMEOUT = 60.0
SLOW_ANSWER_S = 5.0


def warnings_since(path, offset: int) -> list[dict]:
    return [line for line in json_lines(path, offset) if line.get("level") in ("WARN", "ERROR")]


def test_services_answer_while_the_collector_is_down_and_tracing_resumes(stack):
    native = stack.require_native()
    offsets = {name: stack.log_path(name).stat().st_size for name in SERVICES}
    native.stop_component("collector")
    try:
        for name in ROUNDS:
            response = requests.get(stack.gateway_url + SCENARIOS[name]["path"], timeout=15)
            assert response.status_code == 200, response.text[:300]
            body = response.json()
            assert set(body["results"]) == {"service-b", "service-c"}, body
            assert response.elapsed.total_seconds() < SLOW_ANSWER_S, (
                f"{name} took {response.elapsed.total_seconds():.1f}s: is export blocking the request?")

        def every_service_complained():
            quiet = [s for s in SERVICES if not warnings_since(stack.log_path(s), offsets[s])]
            return True if not quiet else NotYet(f"no WARN/ERROR line (export failure) yet from {quiet}")

        poll_until(every_service_complained, timeout=20, describe="export failures logged by every service")
    finally:
        native.start_component("collector")

    fresh = requests.get(stack.gateway_url + SCENARIOS["parallel"]["path"], timeout=15)
    assert fresh.status_code == 200
    want = hop_count(SCENARIOS["parallel"]["tree"])
    wait_for_trace(
        stack.store, fresh.json()["otel_trace_id"],
        lambda t: len(t.of_kind("SERVER", "CLIENT")) >= want or NotYet(f"{t.summary()}"),
        timeout=RECOVERY_TIMEOUT, describe="a complete trace sent after the Collector came back")

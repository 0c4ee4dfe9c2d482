"""With the Collector stopped the services keep answering normally, keep the
spans of what they answered, and say so in the contract's lines; once it is
back, those spans and new traces reach the store (docs/contract.md, "A
service whose Collector is unreachable …"). The one check of that rule for
all three services; the slow version under load is tests/chaos
(collector-down-60s).

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
# The services retry a held batch with a backoff of at most 5 s, then the
# Collector's decision wait: give the first traces after the outage time for that.
RECOVERY_TIMEOUT = 60.0
SLOW_ANSWER_S = 5.0
OUTAGE_LINES = {"span export failing", "span export still failing", "span export recovered"}
HEALTH_FIELDS = {"error", "failed_attempts", "spans_dropped", "failing_for_ms"}


def messages_since(path, offset: int) -> list[str]:
    return [line.get("message", "") for line in json_lines(path, offset)]


def every_service_logged(stack, message: str, offsets: dict[str, int]):
    def check():
        quiet = [s for s in SERVICES if message not in messages_since(stack.log_path(s), offsets[s])]
        return True if not quiet else NotYet(f"no {message!r} line yet from {quiet}")
    return check


def served_by_every_service(want_hops: int):
    """The trace holds each service's SERVER span and all its hops."""
    def ready(trace):
        hops = [s for s in trace.of_kind("SERVER", "CLIENT") if s.service in SERVICES]
        servers = {s.service for s in hops if s.kind == "SERVER"}
        if servers == set(SERVICES) and len(hops) >= want_hops:
            return True
        return NotYet(f"{len(hops)} of {want_hops} service hops, SERVER spans from {sorted(servers)}; "
                      f"{trace.summary()}")
    return ready


def test_services_answer_while_the_collector_is_down_and_keep_their_spans(stack):
    native = stack.require_native()
    offsets = {name: stack.log_path(name).stat().st_size for name in SERVICES}
    answered = []
    native.stop_component("collector")
    try:
        for name in ROUNDS:
            response = requests.get(stack.gateway_url + SCENARIOS[name]["path"], timeout=15)
            assert response.status_code == 200, response.text[:300]
            body = response.json()
            assert set(body["results"]) == {"service-b", "service-c"}, body
            assert response.elapsed.total_seconds() < SLOW_ANSWER_S, (
                f"{name} took {response.elapsed.total_seconds():.1f}s: is export blocking the request?")
            answered.append((name, body["otel_trace_id"]))

        poll_until(every_service_logged(stack, "span export failing", offsets), timeout=20,
                   describe="'span export failing' logged by every service")
    finally:
        native.start_component("collector")

    poll_until(every_service_logged(stack, "span export recovered", offsets), timeout=RECOVERY_TIMEOUT,
               describe="'span export recovered' logged by every service")
    for name, trace_id in answered:
        wait_for_trace(stack.store, trace_id, served_by_every_service(hop_count(SCENARIOS[name]["tree"])),
                       timeout=RECOVERY_TIMEOUT, describe=f"the {name} trace answered while the Collector was down")
    for name in SERVICES:
        # docs/contract.md: the outage is told in the export lines alone, with
        # their fields, and nothing was given up.
        lines = [line for line in json_lines(stack.log_path(name), offsets[name])
                 if line.get("level") in ("WARN", "ERROR") or line.get("message") == "span export recovered"]
        assert {line.get("message") for line in lines} <= OUTAGE_LINES, f"{name}: {lines}"
        assert all(HEALTH_FIELDS <= set(line) and line["spans_dropped"] == 0 for line in lines), f"{name}: {lines}"

    fresh = requests.get(stack.gateway_url + SCENARIOS["parallel"]["path"], timeout=15)
    assert fresh.status_code == 200
    wait_for_trace(stack.store, fresh.json()["otel_trace_id"],
                   served_by_every_service(hop_count(SCENARIOS["parallel"]["tree"])),
                   timeout=RECOVERY_TIMEOUT, describe="a complete trace sent after the Collector came back")

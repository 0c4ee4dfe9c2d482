"""Every scenario of scenarios/scenarios.json through the gateway: the answer,
the trace in the store (exact tree), the search by X-Trace-ID, and the logs."""

from __future__ import annotations

import re

import pytest

from tests.support.ids import MINTED_X_TRACE_ID, OTEL_TRACE_ID
from tests.support.logs import lines_per_process
from tests.support.polling import NotYet, poll_until
from tests.support.store_waits import complete, wait_for_search, wait_for_trace
from tests.support.trace_tree import hop_roots, render, tree_differences
from tools.scenario_table import hop_count, load_scenarios, participating_services

SCENARIOS = {scenario["name"]: scenario for scenario in load_scenarios()}
TRACERESPONSE = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
LOG_TIMEOUT = 15.0

# Body facts docs/contract.md promises beyond the common fields:
# scenario -> {path into the body: expected value}. A failed call's `error` is
# the callee's own code (docs/contract.md, "Endpoints").
BODY_FACTS = {
    "parallel": {("results", "service-b", "service"): "service-b", ("results", "service-c", "service"): "service-c"},
    "sequential": {("results", "service-b", "service"): "service-b", ("results", "service-c", "service"): "service-c"},
    "hop-limit": {("error",): "downstream_failed", ("failed",): ["service-b", "service-c"],
                  ("results", "service-b", "error"): "loop_detected", ("results", "service-b", "status"): 508,
                  ("results", "service-c", "error"): "loop_detected", ("results", "service-c", "status"): 508},
    "failure-timeout": {("error",): "downstream_timeout", ("failed",): ["service-c"],
                        ("results", "service-b", "service"): "service-b",
                        ("results", "service-c", "error"): "timeout", ("results", "service-c", "status"): None},
    "failure-partial": {("degraded",): True, ("failed",): ["service-c"], ("results", "service-c", "status"): 500,
                        ("results", "service-b", "service"): "service-b",
                        ("results", "service-c", "error"): "simulated_failure"},
    "failure-cascade": {("error",): "downstream_failed", ("results", "service-b", "error"): "downstream_failed",
                        ("results", "service-b", "status"): 502},
    "failure-chain": {("error",): "downstream_failed", ("failed_step",): "step-2",
                      ("results", "step-1", "service"): "service-b",
                      ("results", "step-2", "error"): "simulated_failure", ("results", "step-2", "status"): 500},
    "failure-chain-step-3": {("error",): "downstream_failed", ("failed_step",): "step-3",
                             ("results", "step-1", "service"): "service-b",
                             ("results", "step-2", "service"): "service-c", ("results", "step-3", "status"): 500},
    "b-error": {("error",): "simulated_error"},
    "b-error-forced-ok": {("status",): "ok"},
    "b-timeout": {("error",): "timeout"},
    "b-db-error": {("error",): "database_unavailable"},
    "b-memory-error": {("error",): "memory_limit_exceeded"},
    "c-error": {("error",): "simulated_failure"},
    "c-auth-error": {("error",): "unauthorized"},
    "c-rate-limit-error": {("error",): "rate_limited"},
    "c-dependency-error": {("error",): "dependency_unavailable"},
}
# Response headers docs/contract.md promises: scenario -> {header: value}.
HEADER_FACTS = {
    "c-auth-error": {"WWW-Authenticate": "Bearer"},
    "c-rate-limit-error": {"Retry-After": "30"},
}
# error.type of the root server span of a failed scenario: each instrumentation's
# own kind of value (docs/contract.md, "Spans"): service-a the contract's error
# code, service-b the failure's class or a short code, service-c the status code.
ROOT_ERROR_TYPE = {
    "hop-limit": "downstream_failed",
    "failure-timeout": "downstream_timeout",
    "failure-cascade": "downstream_failed",
    "failure-chain": "downstream_failed",
    "failure-chain-step-3": "downstream_failed",
    "b-error": "SimulatedFailure",
    "b-timeout": "timeout",
    "b-db-error": "DatabaseConnectionError",
    "b-memory-error": "MemoryLimitExceeded",
    "c-error": "500",
    "c-dependency-error": "502",
}
# service-b's simulated database query (docs/contract.md, service-b's /api/db-error).
DATABASE_ATTRIBUTES = {"db.system.name": "postgresql", "db.operation.name": "SELECT", "db.collection.name": "orders"}


def dig(body, path: tuple[str, ...]):
    for key in path:
        if not isinstance(body, dict) or key not in body:
            return f"<missing {'.'.join(path)}>"
        body = body[key]
    return body


@pytest.mark.parametrize("name", SCENARIOS)
def test_answer(run_scenario, name):
    run = run_scenario(name)
    scenario = run.scenario
    assert run.response.status_code == scenario["expect_status"], run.response.text[:500]
    assert len(run.x_trace_id_lines) == 1, f"X-Trace-ID header lines: {run.x_trace_id_lines}"
    assert MINTED_X_TRACE_ID.match(run.x_trace_id), f"gateway X-Trace-ID {run.x_trace_id!r}"
    body = run.body
    assert body, f"body is not a JSON object: {run.response.text[:500]!r}"
    assert body.get("service") == scenario["tree"]["service"]
    assert body.get("trace_id") == run.x_trace_id
    assert OTEL_TRACE_ID.match(run.otel_trace_id), f"otel_trace_id {run.otel_trace_id!r}"
    traceresponse = TRACERESPONSE.match(run.response.headers.get("traceresponse", ""))
    assert traceresponse and traceresponse.group(1) == run.otel_trace_id, (
        f"traceresponse {run.response.headers.get('traceresponse')!r} does not carry {run.otel_trace_id}")
    wrong = {path: dig(body, path) for path, value in BODY_FACTS.get(name, {}).items() if dig(body, path) != value}
    assert not wrong, f"body facts differ from docs/contract.md: {wrong}; body: {body}"
    headers = {name: run.response.headers.get(name) for name in HEADER_FACTS.get(name, {})}
    assert headers == HEADER_FACTS.get(name, {}), f"response headers differ from docs/contract.md: {headers}"
    # Downstream bodies were answered inside the same trace and request.
    for step, result in (body.get("results") or {}).items():
        if isinstance(result, dict) and "service" in result:
            assert (result.get("trace_id"), result.get("otel_trace_id")) == (run.x_trace_id, run.otel_trace_id), (
                f"results[{step}] was answered with other ids: {result}")


@pytest.mark.parametrize("name", SCENARIOS)
def test_trace_tree(run_scenario, stack, name):
    run = run_scenario(name)
    assert OTEL_TRACE_ID.match(run.otel_trace_id), "no otel_trace_id in the answer (see test_answer)"
    expected = run.scenario["tree"]
    trace = wait_for_trace(stack.store, run.otel_trace_id, complete(hop_count(expected)),
                           timeout=stack.trace_timeout, describe=f"the complete trace of {name}")

    hops = trace.of_kind("SERVER", "CLIENT")
    actual_tree = "\n".join(render(root) for root in hop_roots(trace))
    assert len(hops) == hop_count(expected), f"{len(hops)} SERVER/CLIENT spans:\n{actual_tree}"
    problems = tree_differences(expected, trace, stack.external_dependency_host)
    assert not problems, "\n".join(problems) + f"\nactual tree:\n{actual_tree}"
    untagged = {s.label(): s.attributes.get("app.x_trace_id") for s in trace.of_kind("SERVER")
                if s.attributes.get("app.x_trace_id") != run.x_trace_id}
    assert not untagged, f"server spans without app.x_trace_id={run.x_trace_id!r}: {untagged}"
    # A failed span says why (docs/contract.md, "Spans").
    failed = [s for s in hops if s.status == "ERROR" and not s.attributes.get("error.type")]
    assert not failed, f"ERROR spans without error.type: {[s.label() for s in failed]}"
    [root] = [s for s in trace.of_kind("SERVER") if s.parent_span_id == ""]
    assert root.attributes.get("error.type") == ROOT_ERROR_TYPE.get(name), (
        f"root span error.type {root.attributes.get('error.type')!r}, want {ROOT_ERROR_TYPE.get(name)!r}")
    for database in [s for s in hops if s.attributes.get("db.system.name")]:
        found = {key: database.attributes.get(key) for key in DATABASE_ATTRIBUTES}
        assert found == DATABASE_ATTRIBUTES, f"{database.label()}: {found}"
        assert str(database.attributes.get("db.query.text", "")).startswith("SELECT "), database.attributes
        assert database.attributes.get("server.address"), database.attributes
        assert len(database.events_named("exception")) == 1, database.label()


@pytest.mark.parametrize("name", SCENARIOS)
def test_store_search_by_x_trace_id_finds_exactly_this_trace(run_scenario, stack, name):
    run = run_scenario(name)
    assert run.x_trace_id, "no X-Trace-ID in the answer"
    found = wait_for_search(stack.store, run.x_trace_id, run.sent_at)
    assert found == [run.otel_trace_id]


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_participant_logged_the_request(run_scenario, stack, name):
    run = run_scenario(name)
    log_dir = stack.log_path("gateway").parent
    assert run.otel_trace_id and run.x_trace_id, "the answer carries no ids (see test_answer)"
    expected = {"gateway", *participating_services(run.scenario["tree"])}

    def everyone_logged():
        counts = lines_per_process(log_dir, run.otel_trace_id, run.x_trace_id)
        missing = expected - set(counts)
        return counts if not missing else NotYet(f"no line yet from {sorted(missing)} (have {dict(counts)})")

    poll_until(everyone_logged, timeout=LOG_TIMEOUT, describe=(
        f"log lines with trace_id={run.otel_trace_id} and x_trace_id={run.x_trace_id} in {log_dir}"))

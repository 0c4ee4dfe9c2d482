"""`python3 -m tools.trace` and ./test-demo.sh --tree against the running stack: the real
store's trace of a scenario, waited for and drawn as the scenario's tree."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.stores.jaeger import JaegerStore
from tests.support.ids import OTEL_TRACE_ID
from tools.scenario_table import REPO, walk

BAR = re.compile(r"[█▐▕▏▎▍▌▋▊▉]")  # a span line ends in its time bar
COMMAND_TIMEOUT = 180  # the command's own wait is --timeout; this only stops a hung process


def store_options(stack) -> list[str]:
    kind = "jaeger" if isinstance(stack.store, JaegerStore) else "tempo"
    return ["--store", kind, "--store-url", stack.store.base_url, "--timeout", str(stack.trace_timeout)]


def run_trace(stack, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    return subprocess.run([sys.executable, "-m", "tools.trace", *store_options(stack), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, env={**env, "COLUMNS": "120"})


def span_lines(output: str) -> list[str]:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("span ")) + 1
    return [line for line in lines[start:] if BAR.search(line)]


@pytest.mark.parametrize("name", ["parallel", "failure-cascade"])
@pytest.mark.parametrize("by", ["otel", "x"])
def test_trace_command_draws_the_scenarios_tree(run_scenario, stack, name, by):
    run = run_scenario(name)
    assert OTEL_TRACE_ID.match(run.otel_trace_id) and run.x_trace_id, "the answer carries no ids (see test_10)"
    result = run_trace(stack, run.otel_trace_id if by == "otel" else run.x_trace_id)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "\x1b[" not in out, "colour codes on a pipe"
    assert all(len(line) <= 120 for line in out.splitlines())

    assert re.search(rf"^X-Trace-ID\s+{run.x_trace_id}\s*$", out, re.M), out
    assert re.search(rf"^trace id\s+{run.otel_trace_id}\s", out, re.M), out
    assert re.search(rf"^complete\s+yes: .* scenario '{name}'", out, re.M), out

    # Every hop of the expected tree is a line, in the expected nesting; the root first.
    hops = [line for line in span_lines(out) if re.search(r" (SERVER|CLIENT) ", line)]
    expected = list(walk(run.scenario["tree"]))
    assert len(hops) == len(expected), out
    assert re.match(rf"^(✗ )?{expected[0]['service']} SERVER ", hops[0]), out
    for node in expected:
        marker = "✗ " if node["error"] else ""
        status = str(node["status"]) if node["status"] is not None else "-"
        pattern = rf"{marker}{node['service']} {node['kind']} .*\s{status}\s+[0-9.]+ "
        assert any(re.search(pattern, line) for line in hops), f"no line like {pattern!r}:\n{out}"
    errors = [line for line in out.splitlines() if line.strip().startswith("ERROR ")]
    assert len(errors) >= sum(1 for node in expected if node["error"]), out


def test_logs_are_drawn_beneath_their_spans(run_scenario, stack):
    run = run_scenario("parallel")
    result = run_trace(stack, "--logs", "--log-dir", str(stack.log_path("gateway").parent), run.otel_trace_id)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    # Under each span line, the log lines joined to it: (span line, [its log lines]).
    joined: list[tuple[str, list[str]]] = []
    for line in lines[next(i for i, line in enumerate(lines) if line.startswith("span ")) + 1:]:
        if re.match(r"^\s+│ \d\d:\d\d:\d\d\S* ", line):
            joined[-1][1].append(line)
        elif BAR.search(line):
            joined.append((line, []))
    by_service = {}
    for span_line, logs in joined:
        for log in logs:
            by_service.setdefault(log.split()[2], []).append(span_line)
    # Every service logs inside its server span; nginx has no span of its own, but logs the
    # span id of service-a's server span from the traceresponse header.
    assert set(by_service) >= {"gateway", "service-a", "service-b", "service-c"}, result.stdout
    for service, owner in [("gateway", "service-a SERVER "), ("service-b", "service-b "), ("service-c", "service-c ")]:
        assert all(re.search(rf"(^|\s){owner}", line) for line in by_service[service]), result.stdout


def test_test_demo_tree_draws_each_scenario(stack):
    # The trace command it runs reads the store where this stack keeps it (on a cluster, not on .env's port).
    result = subprocess.run([str(REPO / "test-demo.sh"), "--gateway", stack.gateway_url, "--tree", "parallel"],
                            capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
                            env={**os.environ, "TRACE_STORE_URL": stack.store.base_url})
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^PASS  parallel ", result.stdout, re.M), result.stdout
    assert re.search(r"^complete\s+yes: .* scenario 'parallel'", result.stdout, re.M), result.stdout
    assert len(span_lines(result.stdout)) >= 5, result.stdout

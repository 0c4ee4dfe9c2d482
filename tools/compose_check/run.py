"""Orchestration of `make compose-check`: docker compose up, the checks, down."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable

import requests
import yaml

from tests.support.polling import NotYet, PollTimeout, poll_until
from tools.native.settings import REPO, read_dotenv

from . import panels, responses
from .responses import Verdict

COMPOSE_FILES = ("docker-compose.yml", "docker-compose.direct-ports.yml")
DATASOURCES_FILE = REPO / "observability/grafana/provisioning/datasources/datasources.yaml"
DASHBOARDS = sorted((REPO / "observability/grafana/dashboards").glob("*.json"))
PROCESSES = {"gateway", "service-a", "service-b", "service-c"}
SERVICES = ("service-a", "service-b", "service-c")
UP_TIMEOUT_S = 300
HTTP_TIMEOUT_S = 15
# How long telemetry may take to show up once a request was answered: Promtail
# tails, Tempo's generator remote-writes every 15 s, Grafana queries both.
SIGNAL_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Urls:
    gateway: str
    tempo: str
    loki: str
    prometheus: str
    grafana: str
    services: dict[str, str]

    @classmethod
    def from_dotenv(cls, env: dict[str, str]) -> "Urls":
        host = env.get("BIND_HOST", "127.0.0.1")
        url = lambda variable: f"http://{host}:{env[variable]}"  # noqa: E731
        return cls(url("GATEWAY_PORT"), url("TEMPO_PORT"), url("LOKI_PORT"), url("PROMETHEUS_PORT"),
                   url("GRAFANA_PORT"), {s: url(s.upper().replace("-", "_") + "_PORT") for s in SERVICES})


def compose(*args: str) -> list[str]:
    files = [part for name in COMPOSE_FILES for part in ("-f", name)]
    return ["docker", "compose", *files, *args]


def e2e_environment(urls: Urls) -> dict[str, str]:
    return {
        "E2E_GATEWAY_URL": urls.gateway,
        "E2E_STORE": "tempo",
        "E2E_STORE_URL": urls.tempo,
        **{f"E2E_{s.upper().replace('-', '_')}_URL": url for s, url in urls.services.items()},
    }


def guarded(check: Callable[[], Verdict]) -> Verdict:
    """A check that raises (a timeout, a refused connection) fails with the reason."""
    try:
        return check()
    except (PollTimeout, requests.RequestException, ValueError, KeyError, subprocess.SubprocessError) as error:
        return Verdict(False, f"{type(error).__name__}: {error}")


def summary(results: list[tuple[str, Verdict]]) -> str:
    width = max((len(name) for name, _ in results), default=0)
    lines = [f"{'PASS' if verdict.ok else 'FAIL'}  {name:<{width}}  {verdict.detail}" for name, verdict in results]
    failed = sum(not verdict.ok for _, verdict in results)
    lines.append(f"\n{len(results)} check(s): {len(results) - failed} passed, {failed} failed")
    return "\n".join(lines)


# ------------------------------------------------------------------- checks

def check_e2e(urls: Urls) -> Verdict:
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/e2e"],
                            cwd=REPO, env={**os.environ, **e2e_environment(urls)}, capture_output=True, text=True)
    print(result.stdout[-4000:], result.stderr[-2000:], sep="\n", flush=True)
    last = (result.stdout.strip().splitlines() or ["no output"])[-1]
    return Verdict(result.returncode == 0, last)


def send_request(urls: Urls) -> str:
    """One demo request through the gateway; its W3C trace id."""
    response = requests.get(f"{urls.gateway}/api/demo/parallel", timeout=HTTP_TIMEOUT_S)
    response.raise_for_status()
    return response.json()["otel_trace_id"]


def check_loki(urls: Urls, trace_id: str) -> Verdict:
    query = f'{{service=~".+"}} | trace_id="{trace_id}"'

    def lines():
        answer = requests.get(f"{urls.loki}/loki/api/v1/query_range", timeout=HTTP_TIMEOUT_S, params={
            "query": query, "start": str(int((time.time() - 600) * 1e9)), "limit": "1000"}).json()
        verdict = responses.loki_has_every_process(answer, trace_id, PROCESSES)
        return verdict or NotYet(verdict.detail)

    return poll_until(lines, timeout=SIGNAL_TIMEOUT_S, interval=2, describe=f"Loki lines of trace {trace_id}")


def check_service_graph(urls: Urls) -> Verdict:
    def graph():
        answer = requests.get(f"{urls.prometheus}/api/v1/query", timeout=HTTP_TIMEOUT_S,
                              params={"query": "traces_service_graph_request_total"}).json()
        verdict = responses.service_graph_covers(answer, set(SERVICES))
        return verdict or NotYet(verdict.detail)

    return poll_until(graph, timeout=SIGNAL_TIMEOUT_S, interval=3, describe="Tempo's service graph in Prometheus")


def check_traceql_metrics(urls: Urls) -> Verdict:
    def series():
        now = int(time.time())
        response = requests.get(f"{urls.tempo}/api/metrics/query_range", timeout=HTTP_TIMEOUT_S, params={
            "q": "{} | rate()", "start": str(now - 600), "end": str(now), "step": "30s"})
        if response.status_code != 200:
            return NotYet(f"HTTP {response.status_code}: {response.text[:300]}")
        verdict = responses.tempo_metrics_has_series(response.json())
        return verdict or NotYet(verdict.detail)

    return poll_until(series, timeout=SIGNAL_TIMEOUT_S, interval=3, describe="Tempo's answer to {} | rate()")


def datasource_uids() -> list[str]:
    return [source["uid"] for source in yaml.safe_load(DATASOURCES_FILE.read_text())["datasources"]]


def check_datasource(urls: Urls, uid: str) -> Verdict:
    response = requests.get(f"{urls.grafana}/api/datasources/uid/{uid}/health", timeout=60)
    return responses.datasource_health(response.status_code, response.json())


def check_panel(urls: Urls, query: panels.PanelQuery) -> Verdict:
    def data():
        answer = requests.post(f"{urls.grafana}/api/ds/query", json=panels.ds_query_body(query), timeout=60).json()
        verdict = responses.frames_have_data(answer, query.ref_id)
        return verdict or NotYet(verdict.detail)

    return poll_until(data, timeout=SIGNAL_TIMEOUT_S / 2, interval=5, describe=query.label)


def check_grafana_log() -> Verdict:
    log = subprocess.run(compose("logs", "--no-color", "--no-log-prefix", "grafana"), cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    errors = responses.grafana_error_lines(log)
    return Verdict(not errors, f"{len(errors)} error line(s)" + (f", first: {errors[0][:300]}" if errors else ""))


# A container using more than this share of its limit after the whole suite ran
# is sized too tightly (docs/compose.md, Memory).
MEMORY_CEILING_PERCENT = 85.0


def check_memory() -> Verdict:
    containers = subprocess.run(compose("ps", "-q"), cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    stats = subprocess.run(["docker", "stats", "--no-stream", "--format", "{{json .}}", *containers],
                           capture_output=True, text=True, check=True).stdout
    return responses.memory_headroom(stats, MEMORY_CEILING_PERCENT)


def all_checks(urls: Urls) -> list[tuple[str, Callable[[], Verdict]]]:
    checks: list[tuple[str, Callable[[], Verdict]]] = [("e2e suite, E2E_STORE=tempo", lambda: check_e2e(urls))]
    checks.append(("Loki: one request's lines from all four processes",
                   lambda: check_loki(urls, send_request(urls))))
    checks.append(("Prometheus: Tempo's service graph for the three services", lambda: check_service_graph(urls)))
    checks.append(("Tempo: TraceQL metrics {} | rate()", lambda: check_traceql_metrics(urls)))
    for uid in datasource_uids():
        checks.append((f"Grafana data source {uid}: health", lambda uid=uid: check_datasource(urls, uid)))
    for query in panels.panel_queries(DASHBOARDS, DATASOURCES_FILE):
        checks.append((f"panel {query.label}", lambda query=query: check_panel(urls, query)))
    checks.append(("Grafana log: no error lines", check_grafana_log))
    checks.append(("memory: every container below its limit", check_memory))
    return checks


def main(argv: list[str]) -> int:
    keep_up = "--keep-up" in argv
    urls = Urls.from_dotenv(read_dotenv())
    results: list[tuple[str, Verdict]] = []
    print("$", " ".join(compose("up", "--build", "--wait")), flush=True)
    up = subprocess.run(compose("up", "--build", "--wait", "--wait-timeout", str(UP_TIMEOUT_S)), cwd=REPO)
    try:
        results.append(("docker compose up --wait (stack ready)", Verdict(up.returncode == 0, f"exit {up.returncode}")))
        if up.returncode == 0:
            for name, check in all_checks(urls):
                print(f"... {name}", flush=True)
                results.append((name, guarded(check)))
    finally:
        if not keep_up:
            subprocess.run(compose("down"), cwd=REPO)
    print(summary(results), flush=True)
    return 0 if all(verdict.ok for _, verdict in results) else 1

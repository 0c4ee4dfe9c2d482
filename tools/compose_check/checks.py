"""The checks of `make compose-check`, each one verdict. HTTP to the published
ports; the verdicts on the components' answers are in responses.py."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests
import yaml

from tests.support.polling import NotYet, poll_until
from tools.native.settings import REPO

from . import panels, responses
from .responses import Verdict
from .stack import Compose, LogFiles

DATASOURCES_FILE = REPO / "observability/grafana/provisioning/datasources/datasources.yaml"
DASHBOARDS = sorted((REPO / "observability/grafana/dashboards").glob("*.json"))
PROCESSES = {"gateway", "service-a", "service-b", "service-c"}
SERVICES = ("service-a", "service-b", "service-c")
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


def e2e_environment(urls: Urls) -> dict[str, str]:
    return {
        "E2E_GATEWAY_URL": urls.gateway,
        "E2E_STORE": "tempo",
        "E2E_STORE_URL": urls.tempo,
        **{f"E2E_{s.upper().replace('-', '_')}_URL": url for s, url in urls.services.items()},
    }


def pytest_stage(urls: Urls, args: list[str], extra_env: dict[str, str] | None = None) -> Verdict:
    """A pytest run against the stack, its output shown as it comes; its closing line is the verdict's detail."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
    print("$", " ".join(command), flush=True)
    last = "no output"
    with subprocess.Popen(command, cwd=REPO, env={**os.environ, **e2e_environment(urls), **(extra_env or {})},
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as run:
        for line in run.stdout:
            print(line, end="", flush=True)
            last = line.strip() or last
    return Verdict(run.returncode == 0, last.strip("= "))


# CI's budget (--ci): leave out the tables of one service's own input handling,
# which make test runs natively on the same code.
CI_E2E_ARGS = ["-m", "not service_input"]


def check_e2e(urls: Urls, compose: Compose, extra_args: list[str] = ()) -> Verdict:
    with tempfile.TemporaryDirectory(prefix="compose-logs-") as folder:
        logs = LogFiles(compose, Path(folder), ("gateway", *SERVICES))
        try:
            return pytest_stage(urls, ["-q", "tests/e2e", *extra_args], {"E2E_LOG_DIR": folder})
        finally:
            logs.close()


def check_chaos(urls: Urls) -> Verdict:
    # -s: each fault prints its figures (sent, complete, missing, recovery).
    return pytest_stage(urls, ["-q", "-s", "tests/chaos", "-m", "chaos"], {"CHAOS_STACK": "compose"})


def check_routes_after_recreate(compose: Compose, urls: Urls, services: list[str], requests_after: int = 30) -> Verdict:
    """`up --wait` on a running stack whose services change (recreated with new
    addresses) returns only once the gateway routes to the new ones."""
    override = compose.with_service_environment({s: {"COMPOSE_CHECK_GENERATION": str(time.time_ns())}
                                                for s in SERVICES})
    up = override.run("up", "--wait", "--wait-timeout", "300", *services, check=False)
    if up.returncode != 0:
        return Verdict(False, f"up --wait exit {up.returncode}: {up.stderr[-300:]}")
    statuses = [requests.get(f"{urls.gateway}/api/demo/parallel", timeout=HTTP_TIMEOUT_S).status_code
                for _ in range(requests_after)]
    bad = [s for s in statuses if s != 200]
    return Verdict(not bad, f"{requests_after - len(bad)} of {requests_after} answered 200 right after up returned"
                   + (f"; statuses {statuses}" if bad else ""))


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


def check_grafana_log(compose: Compose) -> Verdict:
    log = compose.run("logs", "--no-color", "--no-log-prefix", "grafana").stdout
    errors = responses.grafana_error_lines(log)
    return Verdict(not errors, f"{len(errors)} error line(s)" + (f", first: {errors[0][:300]}" if errors else ""))



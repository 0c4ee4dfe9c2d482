"""tools/compose_check/run.py: the commands it runs, the environment it gives
the e2e suite, and the summary; the checks themselves are in test_responses."""

from __future__ import annotations

import requests

from tests.support.polling import PollTimeout
from tools.compose_check import run
from tools.compose_check.responses import Verdict

ENV = {"BIND_HOST": "127.0.0.1", "GATEWAY_PORT": "8080", "TEMPO_PORT": "3200", "LOKI_PORT": "3100",
       "PROMETHEUS_PORT": "9090", "GRAFANA_PORT": "3000", "SERVICE_A_PORT": "8081", "SERVICE_B_PORT": "8082",
       "SERVICE_C_PORT": "8083"}
URLS = run.Urls.from_dotenv(ENV)


def test_compose_uses_the_direct_ports_override():
    assert run.compose("up", "--wait") == ["docker", "compose", "-f", "docker-compose.yml",
                                           "-f", "docker-compose.direct-ports.yml", "up", "--wait"]
    assert all((run.REPO / name).is_file() for name in run.COMPOSE_FILES)


def test_e2e_runs_against_tempo_and_the_published_ports():
    assert run.e2e_environment(URLS) == {
        "E2E_GATEWAY_URL": "http://127.0.0.1:8080",
        "E2E_STORE": "tempo",
        "E2E_STORE_URL": "http://127.0.0.1:3200",
        "E2E_SERVICE_A_URL": "http://127.0.0.1:8081",
        "E2E_SERVICE_B_URL": "http://127.0.0.1:8082",
        "E2E_SERVICE_C_URL": "http://127.0.0.1:8083",
    }


def test_a_raising_check_fails_with_its_reason():
    def times_out():
        raise PollTimeout("gave up waiting for Loki")

    def refused():
        raise requests.ConnectionError("connection refused")

    assert run.guarded(times_out) == Verdict(False, "PollTimeout: gave up waiting for Loki")
    assert not run.guarded(refused).ok
    assert run.guarded(lambda: Verdict(True, "fine")).ok


def test_summary_counts_and_marks_each_check():
    text = run.summary([("stack up", Verdict(True, "exit 0")), ("loki", Verdict(False, "no line from service-c"))])
    assert "PASS  stack up  exit 0" in text and "FAIL  loki      no line from service-c" in text
    assert text.endswith("2 check(s): 1 passed, 1 failed")


def test_every_check_is_listed_once():
    names = [name for name, _ in run.all_checks(URLS)]
    assert len(names) == len(set(names))
    assert names[0] == "e2e suite, E2E_STORE=tempo" and names[-1] == "memory: every container below its limit"
    assert sum(name.startswith("Grafana data source") for name in names) == len(run.datasource_uids()) == 3

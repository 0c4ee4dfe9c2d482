"""tools/compose_check: the commands it runs, the environment it gives the
suites, the summary and the containers' verdict; the checks on the components'
answers are in test_responses."""

from __future__ import annotations

import requests

from tests.support.polling import PollTimeout
from tools.compose_check import checks, run
from tools.compose_check.responses import Verdict, containers_healthy, not_run
from tools.compose_check.stack import Compose, ContainerState

ENV = {"BIND_HOST": "127.0.0.1", "GATEWAY_PORT": "8080", "TEMPO_PORT": "3200", "LOKI_PORT": "3100",
       "PROMETHEUS_PORT": "9090", "GRAFANA_PORT": "3000", "SERVICE_A_PORT": "8081", "SERVICE_B_PORT": "8082",
       "SERVICE_C_PORT": "8083"}
URLS = checks.Urls.from_dotenv(ENV)
MIB = 2**20


def test_compose_uses_the_direct_ports_override_and_the_profiles_asked():
    assert Compose().command("up", "--wait") == ["docker", "compose", "-f", "docker-compose.yml",
                                                 "-f", "docker-compose.direct-ports.yml", "up", "--wait"]
    assert Compose(profiles=("load",)).command("down")[-3:] == ["--profile", "load", "down"]
    assert all((run.REPO / name).is_file() for name in Compose().files)


def test_the_suites_run_against_tempo_and_the_published_ports():
    assert checks.e2e_environment(URLS) == {
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


def test_summary_counts_not_run_apart_from_passed_and_failed():
    text = run.summary([("stack up", Verdict(True, "exit 0")), ("loki", Verdict(False, "no line from service-c")),
                        ("grafana", not_run("no image"))])
    assert "PASS     stack up  exit 0" in text and "FAIL     loki      no line from service-c" in text
    assert "NOT RUN  grafana   no image" in text
    assert text.endswith("3 check(s): 1 passed, 1 failed, 1 not run")
    assert not not_run("no image"), "a check that did not run never counts as passed"


def state(name: str, peak_mib: float | None, limit_mib: int = 100, restarts: int = 0) -> ContainerState:
    return ContainerState(name, restarts, False, limit_mib * MIB, None if peak_mib is None else int(peak_mib * MIB))


def test_containers_pass_below_the_ceiling_without_restarts():
    verdict = containers_healthy([state("tempo", 69), state("loki", 10)], [], ceiling_percent=70)
    assert verdict, verdict.detail
    assert "tempo 69/100" in verdict.detail


def test_containers_fail_on_a_peak_a_restart_an_oom_or_no_figure():
    cases = {
        "tempo peaked at 71 of 100 MiB": ([state("tempo", 71)], []),
        "loki restarted 2x": ([state("loki", 10, restarts=2)], []),
        "tempo oom": ([state("loki", 10)], ["tempo oom"]),
        "no peak or limit for ['gateway']": ([state("gateway", None)], []),
    }
    for expected, (states, events) in cases.items():
        verdict = containers_healthy(states, events, ceiling_percent=70)
        assert not verdict and expected in verdict.detail, (expected, verdict.detail)

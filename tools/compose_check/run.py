"""Orchestration of `make compose-check`: validators, docker compose up, the
checks, the containers' health over the whole run, down, a summary."""

from __future__ import annotations

import argparse
import subprocess
import time
from dataclasses import replace
from typing import Callable

import requests

from tests.support.polling import PollTimeout
from tools.native.settings import REPO, read_dotenv

from . import checks, panels, responses
from .checks import Urls
from .responses import Verdict, not_run
from .stack import GRAFANA, Compose, EventLog, MemoryWatch, container_state, image_present

UP_TIMEOUT_S = 300
# A container whose memory peaked above this share of its limit is sized too
# tightly (docs/compose.md, Memory): the limits come from measured peaks.
MEMORY_CEILING_PERCENT = 70.0

Check = tuple[str, Callable[[], Verdict]]


def guarded(check: Callable[[], Verdict]) -> Verdict:
    """A check that raises (a timeout, a refused connection) fails with the reason."""
    try:
        return check()
    except (PollTimeout, requests.RequestException, ValueError, KeyError, subprocess.SubprocessError) as error:
        return Verdict(False, f"{type(error).__name__}: {error}")


def summary(results: list[tuple[str, Verdict]]) -> str:
    width = max((len(name) for name, _ in results), default=0)
    mark = lambda v: "PASS" if v else ("FAIL" if v.ran else "NOT RUN")  # noqa: E731
    lines = [f"{mark(verdict):<7}  {name:<{width}}  {verdict.detail}" for name, verdict in results]
    passed = sum(bool(v) for _, v in results)
    skipped = sum(not v.ran for _, v in results)
    lines.append(f"\n{len(results)} check(s): {passed} passed, {len(results) - passed - skipped} failed, "
                 f"{skipped} not run")
    return "\n".join(lines)


def grafana_checks(urls: Urls, compose: Compose) -> list[Check]:
    found: list[Check] = [(f"Grafana data source {uid}: health", lambda uid=uid: checks.check_datasource(urls, uid))
                          for uid in checks.datasource_uids()]
    found += [(f"panel {query.label}", lambda query=query: checks.check_panel(urls, query))
              for query in panels.panel_queries(checks.DASHBOARDS, checks.DATASOURCES_FILE)]
    found.append(("Grafana log: no error lines", lambda: checks.check_grafana_log(compose)))
    return found


def stack_checks(urls: Urls, compose: Compose, services: list[str], ci: bool = False) -> list[Check]:
    return [
        # First: it recreates the services, which the later checks then use.
        ("up --wait on the running stack, services recreated: gateway routes at once",
         lambda: checks.check_routes_after_recreate(compose, urls, services)),
        ("e2e suite, E2E_STORE=tempo, logs from the containers" + (" (--ci: not service_input)" if ci else ""),
         lambda: checks.check_e2e(urls, compose, checks.CI_E2E_ARGS if ci else [])),
        ("chaos suite on compose: N answered = N complete", lambda: checks.check_chaos(urls)),
        ("Loki: one request's lines from all four processes",
         lambda: checks.check_loki(urls, checks.send_request(urls))),
        ("Prometheus: Tempo's service graph for the three services", lambda: checks.check_service_graph(urls)),
        ("Tempo: TraceQL metrics {} | rate()", lambda: checks.check_traceql_metrics(urls)),
    ]


def validator_checks() -> list[Check]:
    try:
        from .validators import validator_checks as found
    except ImportError:
        return []
    return found()


def run_checks(found: list[Check], results: list[tuple[str, Verdict]]) -> None:
    for name, check in found:
        print(f"... {name}", flush=True)
        started = time.monotonic()
        verdict = guarded(check)
        print(f"    {'ok' if verdict else 'FAILED'} in {time.monotonic() - started:.0f}s: {verdict.detail[:300]}",
              flush=True)
        results.append((name, verdict))


def container_health(compose: Compose, watch: MemoryWatch, events: EventLog) -> Verdict:
    peaks = watch.close()
    states = []
    for name, container_id in compose.containers().items():
        state = container_state(container_id)
        states.append(replace(state, peak_bytes=max(state.peak_bytes or 0, peaks.get(name, 0)) or None))
    return responses.containers_healthy(states, events.close(), MEMORY_CEILING_PERCENT)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.compose_check", description=__doc__)
    parser.add_argument("--keep-up", action="store_true", help="leave the stack running afterwards")
    parser.add_argument("--ci", action="store_true", help="the e2e suite less the service_input tables, which CI "
                                                          "runs natively")
    args = parser.parse_args(argv)
    keep_up, ci = args.keep_up, args.ci
    urls = Urls.from_dotenv(read_dotenv())
    results: list[tuple[str, Verdict]] = []
    run_checks(validator_checks(), results)

    compose = Compose()
    grafana_image = compose.config()["services"][GRAFANA]["image"]
    absent = set() if image_present(grafana_image) else {GRAFANA}
    if absent:
        print(f"{grafana_image} is not on this machine: the stack starts without it", flush=True)
        compose = compose.without(absent)
    services = [name for name in compose.services() if name not in absent]

    events = EventLog()  # from before `up`: a crash loop during start-up counts too
    command = compose.command("up", "--build", "--wait", "--wait-timeout", str(UP_TIMEOUT_S), *services)
    print("$", " ".join(command), flush=True)
    started = time.monotonic()
    up = subprocess.run(command, cwd=REPO)
    up_s = time.monotonic() - started
    results.append(("docker compose up --build --wait", Verdict(up.returncode == 0, f"exit {up.returncode}, {up_s:.0f}s")))
    try:
        if up.returncode == 0:
            watch = MemoryWatch(compose)
            run_checks(stack_checks(urls, compose, services, ci), results)
            for name, check in grafana_checks(urls, compose):
                if absent:
                    results.append((name, not_run(f"no {grafana_image} image on this machine (no registry; "
                                                  "it cannot be built here)")))
                else:
                    run_checks([(name, check)], results)
            results.append((f"containers: memory peak <= {MEMORY_CEILING_PERCENT:.0f} % of the limit, "
                            "0 restarts, 0 OOM kills", container_health(compose, watch, events)))
        else:
            events.close()
            print(compose.run("logs", "--no-color", "--tail", "30", check=False).stdout[-6000:], flush=True)
    finally:
        if not keep_up:
            # With the load profile too: a load container left by `--profile load up` holds the network.
            subprocess.run(Compose(profiles=("load",)).command("down"), cwd=REPO)
    print(summary(results), flush=True)
    return 0 if all(verdict or not verdict.ran for _, verdict in results) else 1

"""The stack under test, once per session.

By default the session builds and starts the native stack (tools/native) and
stops it at the end, asserting every service exits 0 on SIGTERM: that is the
proof of a clean shutdown (drain, flush, exit). To test a stack that is
already running (docker compose, another machine), point the suite at it:

    E2E_GATEWAY_URL    gateway base URL; when set, nothing is started or stopped
    E2E_SERVICE_A_URL  direct URL of each service (…_B_…, …_C_…). Natively the
                       default comes from .env; for a stack started elsewhere
                       only these say where a service's own port is (compose
                       publishes them with docker-compose.direct-ports.yml), and
                       tests that call a service directly skip without them
    E2E_SAME_HOST      1 when the services of a stack started elsewhere run on
                       this machine's loopback (an external native stack), so
                       they can call back a recording server on 127.0.0.1; in
                       compose they cannot, and those tests skip
    E2E_STORE          trace store kind: jaeger (default) or tempo
    E2E_STORE_URL      its base URL; default the .env port of that store
    E2E_LOG_DIR        folder with gateway.log and service-*.log; native default
                       .native/logs; log checks are skipped when unknown
    E2E_TRACE_TIMEOUT  seconds to wait for a trace to be complete (default 30)
    E2E_EXTERNAL_DEPENDENCY_HOST  host service-c's dependency-error call targets
                       (default 127.0.0.1, the contract's default URL)
    E2E_CONFORMANCE_ENDPOINT  off when the services run with CONFORMANCE_ENDPOINT=off
                       (the Helm chart's default): tests that need POST /test skip
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests

from tests.stores import TraceStore, make_store
from tests.support.logs import invalid_lines
from tests.support.sampling import TEST_COLLECTOR_ENV
from tools.native.settings import LOGS, LOOPBACK, RUN, STATE, read_dotenv
from tools.native.stack import SERVICES, NativeStack
from tools.scenario_table import load_scenarios

REQUEST_TIMEOUT = 20.0
CONTRACT_LOG_FILES = ("gateway", *SERVICES)


class DirectUrls(dict):
    """Direct service URLs; looking up one that is not known skips the test."""

    def __missing__(self, service: str) -> str:
        variable = f"E2E_{service.upper().replace('-', '_')}_URL"
        pytest.skip(f"{service}'s own port is unknown for a stack started elsewhere: set {variable} "
                    "(compose publishes it with docker-compose.direct-ports.yml)")


@dataclass
class StackUnderTest:
    gateway_url: str
    service_urls: DirectUrls
    store: TraceStore
    log_dir: Path | None
    trace_timeout: float
    external_dependency_host: str
    native: NativeStack | None  # None when the stack was started elsewhere
    conformance_endpoint: bool = True  # POST /test answers (CONFORMANCE_ENDPOINT=on)

    def log_path(self, name: str) -> Path:
        if self.log_dir is None:
            pytest.skip("log files unknown for this stack (set E2E_LOG_DIR)")
        return self.log_dir / f"{name}.log"

    @property
    def written_folders(self) -> list[Path]:
        """The folders the stack writes files to that this machine can read:
        the log folder when known, and natively the state folder (the
        Collector's queue) and the run folder (nginx's config, pid and
        temporary files). Compose keeps the queue and the store in volumes."""
        folders = [self.log_dir] if self.log_dir is not None else []
        return folders + ([STATE, RUN] if self.native is not None else [])

    @property
    def callbacks_reach_this_host(self) -> bool:
        """Whether the services can reach a server on this machine's 127.0.0.1."""
        return self.native is not None or os.environ.get("E2E_SAME_HOST") == "1"

    def require_callbacks(self) -> None:
        if not self.callbacks_reach_this_host:
            pytest.skip("the services cannot call back a recording server on this machine's 127.0.0.1 "
                        "(containers have their own loopback); set E2E_SAME_HOST=1 for an external native stack")

    def require_conformance_endpoint(self) -> None:
        if not self.conformance_endpoint:
            pytest.skip("POST /test is off in this stack (CONFORMANCE_ENDPOINT=off, the Helm chart's default)")

    def require_native(self) -> NativeStack:
        if self.native is None:
            pytest.skip("needs control over the stack's processes (native mode)")
        return self.native


def _default_urls(env: dict[str, str], external: bool) -> tuple[DirectUrls, dict[str, str]]:
    """Direct service URLs (E2E_SERVICE_X_URL, else .env natively) and each store's default URL."""
    services = DirectUrls()
    for name in SERVICES:
        variable = name.upper().replace("-", "_")  # service-a -> SERVICE_A
        if f"E2E_{variable}_URL" in os.environ:
            services[name] = os.environ[f"E2E_{variable}_URL"]
        elif not external:
            services[name] = f"http://{LOOPBACK}:{env[f'{variable}_PORT']}"
    stores = {"jaeger": f"http://{LOOPBACK}:{env['JAEGER_QUERY_PORT']}",
              "tempo": f"http://{LOOPBACK}:{env['TEMPO_PORT']}"}
    return services, stores


@pytest.fixture(scope="session")
def stack() -> Iterator[StackUnderTest]:
    env = read_dotenv()
    service_urls, store_urls = _default_urls(env, external=bool(os.environ.get("E2E_GATEWAY_URL")))
    store_kind = os.environ.get("E2E_STORE", "jaeger")
    store = make_store(store_kind, os.environ.get("E2E_STORE_URL", store_urls[store_kind]))
    options = dict(
        service_urls=service_urls,
        store=store,
        trace_timeout=float(os.environ.get("E2E_TRACE_TIMEOUT", "30")),
        external_dependency_host=os.environ.get("E2E_EXTERNAL_DEPENDENCY_HOST", "127.0.0.1"),
        conformance_endpoint=os.environ.get("E2E_CONFORMANCE_ENDPOINT", "on") == "on",
    )
    if os.environ.get("E2E_GATEWAY_URL"):
        log_dir = os.environ.get("E2E_LOG_DIR")
        yield StackUnderTest(gateway_url=os.environ["E2E_GATEWAY_URL"].rstrip("/"),
                             log_dir=Path(log_dir) if log_dir else None, native=None, **options)
        return

    native = NativeStack.from_repo(TEST_COLLECTOR_ENV)
    native.build()
    native.start(build_first=False)
    try:
        yield StackUnderTest(gateway_url=native.gateway_url, log_dir=LOGS, native=native, **options)
    finally:
        codes = native.stop()
    unclean = {name: code for name, code in codes.items() if name in SERVICES and code != 0}
    assert not unclean, f"services did not exit 0 on SIGTERM (all exit codes: {codes}); see {LOGS}"
    # Lines written while shutting down (flush errors, goodbyes) obey the schema too.
    broken = {name: invalid_lines(LOGS / f"{name}.log") for name in CONTRACT_LOG_FILES}
    assert not any(broken.values()), f"log lines written during shutdown break the schema: {broken}"


@dataclass(frozen=True)
class ScenarioRun:
    scenario: dict
    sent_at: float  # epoch seconds, for store searches
    response: requests.Response

    @property
    def x_trace_id_lines(self) -> list[str]:
        """Every X-Trace-ID header line as received (requests would join repeats with ", ")."""
        return self.response.raw.headers.getlist("X-Trace-ID")

    @property
    def x_trace_id(self) -> str:
        lines = self.x_trace_id_lines
        return lines[0] if lines else ""

    @property
    def body(self) -> dict:
        try:
            payload = self.response.json()
        except ValueError:
            return {}
        return payload if isinstance(payload, dict) else {}

    @property
    def otel_trace_id(self) -> str:
        return self.body.get("otel_trace_id", "")


@pytest.fixture(scope="session")
def run_scenario(stack: StackUnderTest) -> Callable[[str], ScenarioRun]:
    """Send a scenario's request through the gateway once; later calls reuse it,
    so the trace checks and the log checks look at the same request."""
    scenarios = {scenario["name"]: scenario for scenario in load_scenarios()}
    done: dict[str, ScenarioRun] = {}

    def run(name: str) -> ScenarioRun:
        if name not in done:
            scenario = scenarios[name]
            sent_at = time.time() - 1  # margin for clock granularity in the store's search
            response = requests.get(stack.gateway_url + scenario["path"], headers=scenario.get("headers", {}),
                                    timeout=REQUEST_TIMEOUT)
            done[name] = ScenarioRun(scenario, sent_at, response)
        return done[name]

    return run


@pytest.fixture
def callbacks_reach_this_host(stack: StackUnderTest) -> None:
    """For tests whose service calls a recording server started by the test."""
    stack.require_callbacks()

"""docs/contract.md, "Logs": a health check that passes writes no log line, in
any process. Compose, Kubernetes and the readiness probe poll /health every
few seconds; a line each would drown the real traffic in Loki."""

from __future__ import annotations

import secrets

import pytest
import requests

from tests.support.logs import json_lines
from tests.support.polling import NotYet, poll_until
from tools.native.stack import SERVICES

# (how the check is asked, the service) -> the log files that must stay silent
ROUTES = [("direct", service) for service in SERVICES] + [("gateway", service) for service in SERVICES]


def lines_with(stack, process: str, x_trace_id: str) -> list[dict]:
    return [line for line in json_lines(stack.log_path(process)) if line.get("x_trace_id") == x_trace_id]


@pytest.mark.parametrize("via, service", ROUTES, ids=[f"{via}->{service}" for via, service in ROUTES])
def test_a_passing_health_check_is_not_logged(stack, via, service):
    base = stack.service_urls[service] if via == "direct" else f"{stack.gateway_url}/{service}"
    logs = [service] if via == "direct" else [service, "gateway"]
    health_id, marker_id = f"health-{secrets.token_hex(4)}", f"marker-{secrets.token_hex(4)}"
    # Health check first, then a request that is logged, on one keep-alive
    # connection: once the marker's lines are written, a health line would be too.
    with requests.Session() as session:
        assert session.get(f"{base}/health", headers={"X-Trace-ID": health_id}, timeout=10).status_code == 200
        assert session.get(f"{base}/api/process", headers={"X-Trace-ID": marker_id}, timeout=10).status_code == 200

    for process in logs:
        poll_until(lambda: lines_with(stack, process, marker_id) or NotYet(f"no marker line in {process}.log yet"),
                   timeout=10, describe=f"the marker request's line in {process}.log")
        assert lines_with(stack, process, health_id) == [], f"{process} logged a passing health check"

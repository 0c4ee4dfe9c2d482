"""Failure scenarios of service-c (scenarios.json group "service-c").

401 and 429 are the client's problem: the server span is not an error.
They fail unless `fail=false` says otherwise, like every simulated endpoint.
The dependency error is not simulated: it is a real call that cannot connect.
"""

from flask import Blueprint, request

from app.config import current_settings
from app.downstream import current_downstream
from app.errors import DependencyUnavailable, RateLimited, Unauthorized
from app.request_context import current_hop
from app.responses import json_response
from app.simulate import FailureMode, Simulation

failures = Blueprint("failures", __name__)


@failures.get("/api/auth-error")
def get_auth_error():
    if Simulation.from_query(request.args).run(FailureMode.ALWAYS):
        raise Unauthorized("missing or invalid bearer token")
    return json_response({"status": "ok", "authenticated": True})


@failures.get("/api/rate-limit-error")
def get_rate_limit_error():
    if Simulation.from_query(request.args).run(FailureMode.ALWAYS):
        raise RateLimited(f"rate limit exceeded, retry in {RateLimited.retry_after_seconds} s")
    return json_response({"status": "ok", "rate_limited": False})


@failures.get("/api/dependency-error")
def get_dependency_error():
    url = current_settings().external_dependency_url
    result = current_downstream().get(url, current_hop())
    if not result.ok:
        # The call's outcome is in its `downstream call failed` line (app/downstream.py).
        raise DependencyUnavailable(f"external dependency failed: {result.error}")
    return json_response({"status": "ok", "dependency": {"url": url, "status": result.status}})

"""Local work: GET /api/process (succeeds unless told to fail) and GET /api/error (fails half the time)."""

from flask import Blueprint, request

from app.errors import SimulatedFailure
from app.responses import json_response
from app.simulate import FailureMode, Simulation

process = Blueprint("process", __name__)


@process.get("/api/process")
def get_process():
    return _work("process", FailureMode.NEVER)


@process.get("/api/error")
def get_error():
    return _work("error", FailureMode.RANDOM)


def _work(operation: str, default: FailureMode):
    simulation = Simulation.from_query(request.args)
    if simulation.run(default):
        raise SimulatedFailure(f"simulated failure in {operation}")
    return json_response({"status": "ok", "operation": operation, "delay_ms": simulation.delay_ms})

"""GET /api/demo/circular: service-c calls back into service-a's /api/process.

The hop count the request arrived with goes out incremented, so a real loop
is cut off by the MAX_HOPS check of whichever service sees it exceed the limit.
"""

from flask import Blueprint, request

from app.config import current_settings
from app.downstream import current_downstream
from app.errors import DownstreamFailure, SimulatedFailure
from app.request_context import current_hop
from app.responses import json_response
from app.simulate import FailureMode, Simulation

circular = Blueprint("circular", __name__)

STEP = "service-a"


@circular.get("/api/demo/circular")
def get_circular():
    if Simulation.from_query(request.args).run(FailureMode.NEVER):
        raise SimulatedFailure("simulated failure before calling service-a")
    result = current_downstream().get(f"{current_settings().service_a_url}/api/process", current_hop())
    results = {STEP: result.as_result_entry()}
    if not result.ok:
        raise DownstreamFailure(f"{STEP} /api/process failed: {result.error}", results=results)
    return json_response({"status": "ok", "results": results})

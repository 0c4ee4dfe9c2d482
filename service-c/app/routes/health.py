"""GET /health: the process is up and serving (no dependencies checked)."""

from flask import Blueprint

from app.responses import json_response

health = Blueprint("health", __name__)


@health.get("/health")
def get_health():
    return json_response({"status": "ok"})

"""HTTP endpoints of service-c, one blueprint per concern."""

from flask import Flask

from app.routes.circular import circular
from app.routes.conformance import conformance
from app.routes.failures import failures
from app.routes.health import health
from app.routes.process import process


def register_blueprints(app: Flask) -> None:
    for blueprint in (health, process, circular, failures, conformance):
        app.register_blueprint(blueprint)

"""HTTP endpoints of service-c, one blueprint per concern."""

from flask import Flask

from app.routes.circular import circular
from app.routes.conformance import conformance
from app.routes.failures import failures
from app.routes.health import health
from app.routes.process import process


def register_blueprints(app: Flask, conformance_endpoint: bool) -> None:
    for blueprint in (health, process, circular, failures):
        app.register_blueprint(blueprint)
    # Switched off, /test is no route at all: every method gets the 404 of an
    # unknown path.
    if conformance_endpoint:
        app.register_blueprint(conformance)

"""service-c: the Python service of the tracing demo (Flask, served by gunicorn).

This package is the application only. OpenTelemetry is set up outside it
(telemetry.py, started per gunicorn worker); the app reads the current span
through the OpenTelemetry API where a request needs it.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from app import request_context
from app.config import Settings
from app.downstream import DownstreamClient
from app.error_handlers import register_error_handlers
from app.routes import register_blueprints

# Bodies larger than this are refused with 413 before a handler reads them.
MAX_BODY_BYTES = 1024 * 1024


def create_app(
    settings: Settings | None = None,
    instrument: Callable[[Flask], None] | None = None,
) -> Flask:
    """Build the app.

    `instrument` (telemetry.instrument_app under gunicorn) runs before the
    app registers its own request hooks: Flask runs before_request hooks in
    registration order, and ours need the server span the instrumentation's
    hook starts.
    """
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    if instrument is not None:
        instrument(app)

    settings.install(app)
    DownstreamClient(settings.downstream_timeout_ms).install(app)
    request_context.init_app(app)
    register_error_handlers(app)
    register_blueprints(app)
    return app

"""service-c: the Python service of the tracing demo (Flask, served by gunicorn).

The whole service is this one package, which the image copies whole: the
Flask app here, OpenTelemetry in telemetry/ (started per gunicorn worker; the
app reads the current span through the OpenTelemetry API only), gunicorn's
side in server/.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from app import request_context, strict_routing
from app.config import Settings
from app.downstream import DownstreamClient
from app.error_handlers import register_error_handlers
from app.routes import register_blueprints

# docs/contract.md, "Input rules": a larger body is refused with 413 (by
# Content-Length before it is read, or as soon as a chunked body passes it).
MAX_BODY_BYTES = 64 * 1024


def create_app(
    settings: Settings | None = None,
    instrument: Callable[[Flask], None] | None = None,
) -> Flask:
    """Build the app.

    `instrument` (telemetry.tracing.instrument_app under gunicorn) runs before the
    app registers its own request hooks: Flask runs before_request hooks in
    registration order, and ours need the server span the instrumentation's
    hook starts. The one exception is strict_routing, which must decide
    whether a path matched *before* the instrumentation records its route.
    """
    settings = settings or Settings.from_env()
    # No static files: the contract's routes are the only ones.
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    strict_routing.init_app(app)
    if instrument is not None:
        instrument(app)

    settings.install(app)
    DownstreamClient(settings.downstream_timeout_ms).install(app)
    request_context.init_app(app)
    register_error_handlers(app)
    register_blueprints(app, settings.conformance_endpoint)
    return app

"""The WSGI entry point gunicorn loads in each worker (gunicorn.conf.py: wsgi_app)."""

from app.telemetry import tracing
from app import create_app
from app.server.body_deadline import BodyReadDeadline

app = create_app(instrument=tracing.instrument_app)
# Outermost, so every read of the body by the app goes through it (see body_deadline.py).
app.wsgi_app = BodyReadDeadline(app.wsgi_app)

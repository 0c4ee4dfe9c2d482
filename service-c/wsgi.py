"""The WSGI entry point gunicorn loads in each worker (gunicorn.conf.py: wsgi_app)."""

import telemetry
from app import create_app

app = create_app(instrument=telemetry.instrument_app)

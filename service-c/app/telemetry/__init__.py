"""OpenTelemetry for service-c, kept apart from the Flask code: tracing.py sets it up
(per gunicorn worker); the app only reads spans through the OpenTelemetry API."""

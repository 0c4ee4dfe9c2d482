"""One JSON object per line for everything service-c writes.

The shape is observability/log-schema.json: timestamp, level, service,
message, trace_id, span_id, x_trace_id, plus any `extra` fields of the call.

- trace_id / span_id come from the OpenTelemetry logging instrumentation,
  which stamps every LogRecord with `otelTraceID` / `otelSpanID` (see
  telemetry/tracing.py). Outside a span it stamps "0"; before it is installed (the
  gunicorn master) there is nothing. Both become "".
- x_trace_id comes from a context variable the request middleware binds for
  the duration of a request.
- gunicorn's own loggers, Python warnings and uncaught exceptions go through
  the same handler, so no plain-text line ever reaches stdout or stderr.
  json.dumps escapes control characters, so a hostile header value quoted in
  a message cannot break a line.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Mapping
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

DEFAULT_SERVICE_NAME = "service-c"
DEFAULT_LEVEL = "INFO"

# LOG_LEVEL values of docs/contract.md mapped to the stdlib's names.
_LOG_LEVELS = {"DEBUG": "DEBUG", "INFO": "INFO", "WARN": "WARNING", "WARNING": "WARNING", "ERROR": "ERROR"}

# Attributes the OpenTelemetry logging instrumentation adds to every record;
# they are emitted under the schema's names instead.
_OTEL_RECORD_ATTRS = ("otelTraceID", "otelSpanID", "otelTraceSampled", "otelServiceName")
_INVALID_IDS = {"", "0", "0" * 16, "0" * 32}

_x_trace_id: ContextVar[str] = ContextVar("x_trace_id", default="")


def bind_x_trace_id(value: str) -> Token[str]:
    """Make `value` the x_trace_id of every line logged until `unbind_x_trace_id`."""
    return _x_trace_id.set(value)


def unbind_x_trace_id(token: Token[str]) -> None:
    _x_trace_id.reset(token)


def log_level_from_env(env: Mapping[str, str] = os.environ) -> str:
    """LOG_LEVEL as a stdlib level name; unknown values fall back to INFO."""
    return _LOG_LEVELS.get(env.get("LOG_LEVEL", DEFAULT_LEVEL).strip().upper(), "INFO")


def schema_level(levelno: int) -> str:
    """The schema knows four levels: WARNING is WARN, CRITICAL counts as ERROR."""
    if levelno >= logging.ERROR:
        return "ERROR"
    if levelno >= logging.WARNING:
        return "WARN"
    if levelno >= logging.INFO:
        return "INFO"
    return "DEBUG"


def _rfc3339_utc(created: float) -> str:
    moment = datetime.fromtimestamp(created, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _valid_id(value: Any) -> str:
    return value if isinstance(value, str) and value not in _INVALID_IDS else ""


class RequestContextFilter(logging.Filter):
    """Stamps each record with the X-Trace-ID of the request being served ("" outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.x_trace_id = _x_trace_id.get()
        return True


class QueryStringFilter(logging.Filter):
    """Cuts query strings out of every message (docs/contract.md, "Secrets never stored").

    The app logs routes and paths only, but libraries quote whole URLs:
    gunicorn the request line it refuses ("Invalid HTTP request line: 'GET
    /x?token=... HTTP/1.1'") or a request that failed outside the app,
    urllib3 every request it sends (at DEBUG). Everything from a "?" that
    follows a path character to the next space or quote goes.
    """

    _QUERY = re.compile(r"(?<=[\w/.~%-])\?[^\s'\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message:
            record.msg, record.args = self._QUERY.sub("?<query removed>", message), ()
        return True


class JsonLineFormatter(JsonFormatter):
    """python-json-logger formatter that emits exactly the schema's fields first."""

    def __init__(self, service: str | None = None) -> None:
        super().__init__(reserved_attrs=[*RESERVED_ATTRS, *_OTEL_RECORD_ATTRS, "x_trace_id"])
        self.service = service or os.environ.get("OTEL_SERVICE_NAME") or DEFAULT_SERVICE_NAME

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        schema_fields = {
            "timestamp": _rfc3339_utc(record.created),
            "level": schema_level(record.levelno),
            "service": self.service,
            "message": record.message,
            "trace_id": _valid_id(getattr(record, "otelTraceID", "")),
            "span_id": _valid_id(getattr(record, "otelSpanID", "")),
            "x_trace_id": getattr(record, "x_trace_id", ""),
        }
        extras: dict[str, Any] = {}
        super().add_fields(extras, record, message_dict)
        log_data.update(schema_fields)
        # An `extra` field never overrides a schema field.
        log_data.update((key, value) for key, value in extras.items() if key not in schema_fields)


def dict_config(level: str) -> dict[str, Any]:
    """logging.config.dictConfig for the whole process, gunicorn's loggers included."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": RequestContextFilter},
                    "no_query_strings": {"()": QueryStringFilter}},
        "formatters": {"json": {"()": JsonLineFormatter}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "json",
                "filters": ["request_context", "no_query_strings"],
            }
        },
        "root": {"level": level, "handlers": ["stdout"]},
        "loggers": {
            # gunicorn's error log is its general log: send it up to the root handler.
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            # The app writes its own `request completed` line with trace ids;
            # gunicorn's access line would be a second, id-less copy, and it
            # quotes the request line, query string included.
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
    }


def route_stray_output_to_logging() -> None:
    """Send Python warnings and uncaught exceptions through logging instead of raw stderr."""
    logging.captureWarnings(True)
    log = logging.getLogger("service_c.uncaught")

    def log_uncaught(exc_type, exc, tb) -> None:
        log.critical("uncaught exception", exc_info=(exc_type, exc, tb))

    def log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is not SystemExit:
            log.critical("uncaught exception in thread %s", getattr(args.thread, "name", "?"),
                         exc_info=(args.exc_type, args.exc_value, args.exc_traceback))

    sys.excepthook = log_uncaught
    threading.excepthook = log_uncaught_in_thread

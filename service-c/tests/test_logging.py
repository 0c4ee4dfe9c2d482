"""Log lines: one JSON shape (observability/log-schema.json) for everything."""

from __future__ import annotations

import io
import json
import logging

import pytest

from app import logging_config
from tests.span_queries import only_server_span, trace_hex


def format_record(logger_name: str, level: int, message: str, **extra) -> dict:
    """One record through the production formatter and filter, outside any request or span."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging_config.JsonLineFormatter(service="service-c"))
    handler.addFilter(logging_config.RequestContextFilter())
    handler.addFilter(logging_config.QueryStringFilter())
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        logger.log(level, message, extra=extra)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    [line] = stream.getvalue().splitlines()
    return json.loads(line)


@pytest.mark.parametrize(("level", "expected"), [
    (logging.DEBUG, "DEBUG"),
    (logging.INFO, "INFO"),
    (logging.WARNING, "WARN"),
    (logging.ERROR, "ERROR"),
    (logging.CRITICAL, "ERROR"),
])
def test_levels_map_to_the_schema(log_validator, level, expected):
    record = format_record("test.levels", level, "hello")
    log_validator.validate(record)
    assert record["level"] == expected


def test_outside_a_request_ids_are_empty(log_validator):
    record = format_record("test.outside", logging.INFO, "boot")
    log_validator.validate(record)
    assert list(record)[:7] == ["timestamp", "level", "service", "message", "trace_id", "span_id", "x_trace_id"]
    assert (record["trace_id"], record["span_id"], record["x_trace_id"]) == ("", "", "")
    assert record["timestamp"].endswith("Z") and len(record["timestamp"]) == len("2026-11-25T00:40:12.345Z")


def test_extra_fields_never_override_schema_fields(log_validator):
    record = format_record("test.extra", logging.INFO, "hi", service="evil", level_hint=1, trace_id_hint="x")
    log_validator.validate(record)
    assert record["service"] == "service-c"
    assert record["level_hint"] == 1


def test_hostile_message_stays_one_line(log_validator):
    record = format_record("test.hostile", logging.WARNING, 'quote " backslash \\ newline \n\r tab \t nul \x00 é')
    log_validator.validate(record)
    assert "\n" in record["message"]


# The request line and the unlogged health check run against every service in
# tests/e2e/test_84_request_log_line.py and test_85_health_not_logged.py.

def test_unexpected_exception_is_logged_with_traceback(client, spans, log_lines):
    @client.application.get("/boom")
    def boom():
        raise RuntimeError("kaput")

    response = client.get("/boom")
    assert response.status_code == 500
    assert response.get_json()["error"] == "internal_error"
    [line] = [entry for entry in log_lines() if entry["message"] == "unhandled exception"]
    assert line["level"] == "ERROR"
    assert "RuntimeError: kaput" in line["exc_info"]
    assert line["trace_id"] == trace_hex(only_server_span(spans))


def test_gunicorn_loggers_share_the_json_handler():
    config = logging_config.dict_config("INFO")
    assert config["loggers"]["gunicorn.error"]["propagate"] is True
    assert config["loggers"]["gunicorn.access"]["propagate"] is False
    assert config["root"]["handlers"] == ["stdout"]


@pytest.mark.parametrize(("value", "expected"), [
    (None, "INFO"), ("DEBUG", "DEBUG"), ("info", "INFO"), ("WARN", "WARNING"), ("ERROR", "ERROR"), ("loud", "INFO"),
])
def test_log_level_from_env(value, expected):
    env = {} if value is None else {"LOG_LEVEL": value}
    assert logging_config.log_level_from_env(env) == expected


# message as a library writes it -> the line's message
QUERY_MESSAGES = [
    ("Invalid HTTP request line: 'GET /x?token=abc HTTP/1.1'", "Invalid HTTP request line: 'GET /x?<query removed> HTTP/1.1'"),
    ('http://127.0.0.1:9 "POST /cb?access_token=abc&x=1 HTTP/1.1" 200 40',
     'http://127.0.0.1:9 "POST /cb?<query removed> HTTP/1.1" 200 40'),
    ("Error handling request GET /api/process?password=abc", "Error handling request GET /api/process?<query removed>"),
    ("http://h?key=abc", "http://h?<query removed>"),
    ("request completed", "request completed"),
    ("is it? yes", "is it? yes"),
]


@pytest.mark.parametrize(("message", "expected"), QUERY_MESSAGES)
def test_no_line_carries_a_query_string(message, expected):
    assert format_record("urllib3.connectionpool", logging.DEBUG, message)["message"] == expected


def test_query_strings_are_cut_from_the_production_handler():
    assert "no_query_strings" in logging_config.dict_config("INFO")["handlers"]["stdout"]["filters"]

"""Settings from the environment."""

from __future__ import annotations

import pytest

from app.config import ConfigError, Settings


def test_defaults_when_nothing_is_set():
    assert Settings.from_env({}) == Settings(
        service_name="service-c",
        service_a_url="http://127.0.0.1:8081",
        external_dependency_url="http://127.0.0.1:9/",
        downstream_timeout_ms=2000,
        max_hops=5,
        max_requests_per_connection=5,
        conformance_endpoint=False,
    )


@pytest.mark.parametrize(("env", "field", "expected"), [
    ({"OTEL_SERVICE_NAME": "service-x"}, "service_name", "service-x"),
    ({"SERVICE_A_URL": "http://a:8081"}, "service_a_url", "http://a:8081"),
    ({"SERVICE_A_URL": "http://a:8081/"}, "service_a_url", "http://a:8081"),
    ({"EXTERNAL_DEPENDENCY_URL": "https://example.invalid/ping"}, "external_dependency_url",
     "https://example.invalid/ping"),
    ({"DOWNSTREAM_TIMEOUT_MS": "750"}, "downstream_timeout_ms", 750),
    ({"DOWNSTREAM_TIMEOUT_MS": " 750 "}, "downstream_timeout_ms", 750),
    ({"DOWNSTREAM_TIMEOUT_MS": ""}, "downstream_timeout_ms", 2000),
    ({"MAX_HOPS": "0"}, "max_hops", 0),
    ({"MAX_HOPS": "12"}, "max_hops", 12),
    ({"MAX_REQUESTS_PER_CONNECTION": "0"}, "max_requests_per_connection", 0),
    ({"MAX_REQUESTS_PER_CONNECTION": "100"}, "max_requests_per_connection", 100),
    ({"CONFORMANCE_ENDPOINT": "on"}, "conformance_endpoint", True),
    ({"CONFORMANCE_ENDPOINT": " off "}, "conformance_endpoint", False),
    ({"CONFORMANCE_ENDPOINT": ""}, "conformance_endpoint", False),
])
def test_values_from_env(env, field, expected):
    assert getattr(Settings.from_env(env), field) == expected


@pytest.mark.parametrize("env", [
    {"DOWNSTREAM_TIMEOUT_MS": "abc"},
    {"DOWNSTREAM_TIMEOUT_MS": "0"},
    {"DOWNSTREAM_TIMEOUT_MS": "1.5"},
    {"MAX_HOPS": "-1"},
    {"MAX_HOPS": "five"},
    {"MAX_REQUESTS_PER_CONNECTION": "-1"},
    {"SERVICE_A_URL": "service-a:8081"},
    {"EXTERNAL_DEPENDENCY_URL": "ftp://127.0.0.1/"},
    {"CONFORMANCE_ENDPOINT": "true"},
    {"CONFORMANCE_ENDPOINT": "ON"},
])
def test_invalid_values_fail_fast(env):
    with pytest.raises(ConfigError):
        Settings.from_env(env)

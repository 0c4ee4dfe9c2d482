"""Settings read from the environment (docs/contract.md, "Environment")."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from flask import Flask, current_app

DEFAULT_SERVICE_NAME = "service-c"
DEFAULT_SERVICE_A_URL = "http://127.0.0.1:8081"
# Port 9 (discard) has no listener on a normal host: the call fails to connect.
DEFAULT_EXTERNAL_DEPENDENCY_URL = "http://127.0.0.1:9/"
DEFAULT_DOWNSTREAM_TIMEOUT_MS = 2000
DEFAULT_MAX_HOPS = 5
# docs/contract.md, "Keep-alive connections"; applied by gunicorn.conf.py.
DEFAULT_MAX_REQUESTS_PER_CONNECTION = 5
# POST /test calls any URL its body names, so it is served only where a run
# mode asks for it (docs/contract.md, "Environment").
_SWITCH = {"on": True, "off": False}

_EXTENSION_KEY = "service_c.settings"


class ConfigError(ValueError):
    """An environment variable has a value the service cannot run with."""


@dataclass(frozen=True)
class Settings:
    service_name: str = DEFAULT_SERVICE_NAME
    service_a_url: str = DEFAULT_SERVICE_A_URL
    external_dependency_url: str = DEFAULT_EXTERNAL_DEPENDENCY_URL
    downstream_timeout_ms: int = DEFAULT_DOWNSTREAM_TIMEOUT_MS
    max_hops: int = DEFAULT_MAX_HOPS
    max_requests_per_connection: int = DEFAULT_MAX_REQUESTS_PER_CONNECTION
    conformance_endpoint: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        return cls(
            service_name=env.get("OTEL_SERVICE_NAME") or DEFAULT_SERVICE_NAME,
            service_a_url=_url(env, "SERVICE_A_URL", DEFAULT_SERVICE_A_URL).rstrip("/"),
            external_dependency_url=_url(env, "EXTERNAL_DEPENDENCY_URL", DEFAULT_EXTERNAL_DEPENDENCY_URL),
            downstream_timeout_ms=_int(env, "DOWNSTREAM_TIMEOUT_MS", DEFAULT_DOWNSTREAM_TIMEOUT_MS, minimum=1),
            max_hops=_int(env, "MAX_HOPS", DEFAULT_MAX_HOPS, minimum=0),
            max_requests_per_connection=_int(env, "MAX_REQUESTS_PER_CONNECTION", DEFAULT_MAX_REQUESTS_PER_CONNECTION,
                                             minimum=0),
            conformance_endpoint=_switch(env, "CONFORMANCE_ENDPOINT", default="off"),
        )

    def install(self, app: Flask) -> None:
        app.extensions[_EXTENSION_KEY] = self


def current_settings() -> Settings:
    return current_app.extensions[_EXTENSION_KEY]


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    return value


def _switch(env: Mapping[str, str], name: str, default: str) -> bool:
    raw = env.get(name, "").strip() or default
    if raw not in _SWITCH:
        raise ConfigError(f"{name} must be on or off, got {raw!r}")
    return _SWITCH[raw]


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if not value.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must be an http(s) URL, got {value!r}")
    return value

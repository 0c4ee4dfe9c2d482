"""docker-compose.yml: valid compose-spec, every value from .env, ports on
loopback, images pinned, every mounted file present and every config mounted,
and the environment the contract promises each process."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from tools.native import settings

from .repo_files import (
    COMPOSE,
    COMPOSE_FILE,
    DOTENV,
    OBSERVABILITY,
    REPO,
    SERVICES,
    relative,
)
from .tools_on_path import venv_tool

SERVICES_BY_NAME = COMPOSE["services"]

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}; `$$` is a literal $.
_VARIABLE = re.compile(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)(:?[-?][^}]*)?\}")
_IMAGE_TAG = re.compile(r"^[\w./-]+:(?P<tag>[\w.-]+)$")
# On BIND_HOST (loopback by default), or on loopback whatever BIND_HOST says
# (the load generator's UI); the host port from .env, with an optional default.
_PUBLISHED = re.compile(
    r"^(?:\$\{BIND_HOST:-127\.0\.0\.1\}|127\.0\.0\.1):\$\{(?P<host_port>[A-Z_]+_PORT)(?::-\d+)?\}:(?P<container>.+)$"
)

# Files under observability/ that are deliberately not mounted into a container.
NOT_MOUNTED = {
    "observability/collector-builder.yaml": "native mode only: the Collector Builder manifest",
    "observability/log-schema.json": "a contract for log lines, read by tests, not by a process",
    "observability/credential-redaction.json": "the contract's credential names and examples, read by tests and "
                                               "tools/credential_pattern.py, not by a process",
}


def _interpolations():
    text = COMPOSE_FILE.read_text()
    return sorted({(m.group(1), bool(m.group(2))) for m in _VARIABLE.finditer(text)})


def _published_ports():
    return [(name, spec) for name, svc in SERVICES_BY_NAME.items() for spec in svc.get("ports", [])]


def _bind_mounts():
    mounts = []
    for name, svc in SERVICES_BY_NAME.items():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                mounts.append((name, source))
    return mounts


def _mounted_paths():
    return [(REPO / source).resolve() for _, source in _bind_mounts()]


def _observability_configs():
    return sorted(
        relative(p)
        for p in OBSERVABILITY.rglob("*")
        if p.is_file() and p.suffix in (".yaml", ".yml", ".json") and relative(p) not in NOT_MOUNTED
    )


def test_validates_against_compose_spec():
    result = subprocess.run(
        [venv_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("variable", "has_default"), _interpolations())
def test_interpolated_variable_is_defined(variable, has_default):
    assert has_default or variable in DOTENV, f"${{{variable}}} has no default and is not set in .env"


@pytest.mark.parametrize(("service", "spec"), _published_ports())
def test_published_port_is_bound_to_bind_host(service, spec):
    match = _PUBLISHED.match(spec)
    assert match, (f"{service}: {spec!r} must look like ${{BIND_HOST:-127.0.0.1}}:${{X_PORT}}:<container port> "
                   "(or 127.0.0.1:${X_PORT}:...)")
    assert match["host_port"] in DOTENV, f"{service}: {match['host_port']} is not in .env"


@pytest.mark.parametrize("service", sorted(n for n, s in SERVICES_BY_NAME.items() if "image" in s))
def test_image_is_pinned_to_a_version_tag(service):
    image = SERVICES_BY_NAME[service]["image"]
    match = _IMAGE_TAG.match(image)
    assert match, f"{service}: {image!r} has no explicit tag"
    tag = match["tag"]
    assert tag != "latest" and re.search(r"\d", tag), f"{service}: {image!r} is not pinned to a version"


@pytest.mark.parametrize("service", SERVICES)
def test_service_is_built_from_its_folder(service):
    assert SERVICES_BY_NAME[service]["build"] == f"./{service}"
    assert (REPO / service / "Dockerfile").is_file(), f"{service}/Dockerfile is missing"


@pytest.mark.parametrize(("service", "source"), _bind_mounts())
def test_bind_mount_source_exists(service, source):
    assert (REPO / source).exists(), f"{service} mounts {source}, which does not exist"


@pytest.mark.parametrize("config", sorted(NOT_MOUNTED))
def test_files_listed_as_not_mounted_exist(config):
    assert (REPO / config).is_file(), f"{config} is listed in NOT_MOUNTED but does not exist"


@pytest.mark.parametrize("config", _observability_configs())
def test_observability_config_is_mounted(config):
    path = (REPO / config).resolve()
    assert any(path == m or m in path.parents for m in _mounted_paths()), f"{config} is mounted by no service"


# One-shot containers: they run to completion once, so they must not restart
# (restarting the readiness probe would also hide the failure it reports).
ONE_SHOT = {
    "ready": "the readiness probe exits 1 on timeout so `up --wait` fails",
    "otel-collector-queue-owner": "hands the samplers' queue volumes to their user",
}


@pytest.mark.parametrize("service", sorted(SERVICES_BY_NAME))
def test_service_restarts_unless_stopped(service):
    expected = "no" if service in ONE_SHOT else "unless-stopped"
    assert SERVICES_BY_NAME[service].get("restart") == expected


@pytest.mark.parametrize(
    ("service", "dependency"),
    [(name, dep) for name, svc in SERVICES_BY_NAME.items() for dep in svc.get("depends_on", {})],
)
def test_dependency_waits_for_a_condition_the_dependency_can_meet(service, dependency):
    condition = SERVICES_BY_NAME[service]["depends_on"][dependency]["condition"]
    if condition == "service_healthy":
        assert "healthcheck" in SERVICES_BY_NAME[dependency], f"{dependency} has no healthcheck"
    elif dependency in ONE_SHOT:
        assert condition == "service_completed_successfully"
    else:
        assert condition == "service_started"


def test_named_volumes_are_declared():
    used = {
        volume.split(":")[0]
        for svc in SERVICES_BY_NAME.values()
        for volume in svc.get("volumes", [])
        if not volume.startswith(("./", "/"))
    }
    assert used == set(COMPOSE.get("volumes", {}))


def _ports():
    return settings.Ports.from_dotenv(DOTENV)


@pytest.mark.parametrize("service", SERVICES)
def test_service_gets_the_environment_the_native_runner_gives(service):
    """docs/native-interface.md: compose sets the same names as tools/native."""
    expected = settings.service_env(_ports(), service)
    environment = SERVICES_BY_NAME[service]["environment"]
    assert sorted(set(expected) - set(environment)) == []
    shared = sorted(set(expected) - settings.PER_MODE_SERVICE_VARIABLES)
    assert {name: str(environment[name]) for name in shared} == {name: expected[name] for name in shared}
    assert environment["OTEL_SERVICE_NAME"] == service
    assert environment["PORT"] == f"${{{service.upper().replace('-', '_')}_PORT}}"
    assert environment["HOST"] == "0.0.0.0"
    assert environment["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"


SAMPLERS = ["otel-collector-sampler-1", "otel-collector-sampler-2"]


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_sampler_gets_every_variable_the_shared_config_reads(sampler):
    expected = settings.collector_env(_ports())
    environment = SERVICES_BY_NAME[sampler]["environment"]
    assert sorted(set(expected) - set(environment)) == []
    assert environment["COLLECTOR_BIND_HOST"] == "0.0.0.0"
    assert sampler in SERVICES_BY_NAME["otel-collector"]["depends_on"]


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_sampler_runs_the_shared_config_with_a_queue_of_its_own(sampler):
    volumes = SERVICES_BY_NAME[sampler]["volumes"]
    assert "./observability/otel-collector.yaml:/etc/otelcol-contrib/config.yaml:ro" in volumes
    queue = [v.split(":")[0] for v in volumes if v.endswith(":/var/lib/otelcol/file_storage")]
    others = [v.split(":")[0] for name in SAMPLERS if name != sampler
              for v in SERVICES_BY_NAME[name]["volumes"] if v.endswith(":/var/lib/otelcol/file_storage")]
    assert len(queue) == 1 and queue[0] not in others, "each sampler's queue file is locked by its own process"
    assert not SERVICES_BY_NAME[sampler].get("ports"), "samplers are internal: the router takes the services' spans"


def test_router_gets_every_variable_the_routing_config_reads():
    expected = settings.routing_env(_ports())
    environment = SERVICES_BY_NAME["otel-collector"]["environment"]
    assert sorted(set(expected) - set(environment)) == []
    assert "./observability/otel-collector-routing.yaml:/etc/otelcol-contrib/config.yaml:ro" in \
        SERVICES_BY_NAME["otel-collector"]["volumes"]


def test_router_resolves_every_sampler_by_their_shared_alias():
    resolver = yaml.safe_load(SERVICES_BY_NAME["otel-collector"]["environment"]["COLLECTOR_ROUTING_RESOLVER"])
    hostname, port = resolver["dns"]["hostname"], resolver["dns"]["port"]
    # The load_balancing exporter decodes `port` as a string and refuses a number.
    assert isinstance(port, str), f"resolver port {port!r} must be a YAML string"
    for sampler in SAMPLERS:
        service = SERVICES_BY_NAME[sampler]
        assert hostname in service["networks"]["default"]["aliases"], sampler
        assert service["environment"]["COLLECTOR_OTLP_GRPC_PORT"] == port, sampler


@pytest.mark.parametrize(
    ("service", "variable"),
    [(n, v) for n, s in SERVICES_BY_NAME.items() for v in (s.get("environment") or {})],
)
def test_no_secret_is_written_in_the_file(service, variable):
    if re.search(r"PASSWORD|SECRET|TOKEN|_KEY$", variable):
        value = str(SERVICES_BY_NAME[service]["environment"][variable])
        assert re.fullmatch(r"\$\{[A-Z_]+(:\?[^}]*)?\}", value), f"{service}: {variable} is written in the file"

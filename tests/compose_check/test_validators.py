"""tools/compose_check/validators.py without Docker: the compose file read as
compose reads it, and the `docker run` each validator becomes."""

from __future__ import annotations

import subprocess

import pytest

from tools.compose_check import validators
from tools.compose_check.responses import Verdict
from tools.native.settings import REPO, read_dotenv

DOTENV = read_dotenv(REPO / ".env")
SERVICES = validators.compose_services(REPO, DOTENV)
BY_SERVICE = {validator.service: validator for validator in validators.VALIDATORS}

# Project files services mount that no image here can validate, and why.
NOT_VALIDATED = {
    "observability/grafana/provisioning": "Grafana: no image on this machine, and no offline validator for provisioning",
    "observability/grafana/dashboards": "Grafana dashboards: same",
    "observability/readiness/wait-until-ready.sh": "a shell script (shellcheck in tests/static), not a config",
    "load": "Python code of the load profile, not a config",
    "tools/scenario_table.py": "Python code of the load profile, not a config",
    "scenarios": "the scenario table, read by Python code (tests/static)",
}


@pytest.mark.parametrize(("text", "variables", "expected"), [
    ("${A}", {"A": "1"}, "1"),
    ("x${A}y", {"A": "1"}, "x1y"),
    ("$A", {"A": "1"}, "1"),
    ("${A}", {}, ""),
    ("${A:-d}", {}, "d"),
    ("${A:-d}", {"A": ""}, "d"),
    ("${A-d}", {"A": ""}, ""),
    ("${A-d}", {}, "d"),
    ("${A:+alt}", {"A": "1"}, "alt"),
    ("${A:+alt}", {"A": ""}, ""),
    ("${A+alt}", {"A": ""}, "alt"),
    ("${A:?missing}", {"A": "1"}, "1"),
    ("$${A}", {"A": "1"}, "${A}"),
    ("$$A", {"A": "1"}, "$A"),
    ("http://gateway:${GATEWAY_PORT}/health", {"GATEWAY_PORT": "8080"}, "http://gateway:8080/health"),
])
def test_interpolation_follows_the_compose_spec(text, variables, expected):
    assert validators.interpolate(text, variables) == expected


@pytest.mark.parametrize("text", ["${A:?missing}", "${A?missing}"])
def test_a_required_variable_that_is_missing_is_an_error(text):
    with pytest.raises(ValueError, match="missing"):
        validators.interpolate(text, {})


@pytest.mark.parametrize(("service", "image"), [
    ("tempo", "grafana/tempo:2.9.0"),
    ("loki", "grafana/loki:3.5.8"),
    ("promtail", "grafana/promtail:3.5.8"),
    ("prometheus", "prom/prometheus:v3.7.1"),
    ("otel-collector", "otel/opentelemetry-collector-contrib:0.161.0"),
    ("otel-collector-sampler-1", "otel/opentelemetry-collector-contrib:0.161.0"),
    ("gateway", "nginx:1.29.3-alpine"),
])
def test_each_validator_runs_in_its_service_image(service, image):
    assert SERVICES[service]["image"] == image
    argv = validators.docker_run_argv(BY_SERVICE[service], SERVICES[service], REPO)
    assert argv[:5] == ["docker", "run", "--rm", "--network", "none"] and image in argv


@pytest.mark.parametrize(("service", "expected"), [
    ("tempo", ["-config.file=/etc/tempo/tempo.yaml", "-config.expand-env=true", "-config.verify=true"]),
    ("loki", ["-config.file=/etc/loki/loki.yaml", "-verify-config"]),
    ("promtail", ["-config.file=/etc/promtail/promtail.yaml", "-check-syntax"]),
    ("prometheus", ["check", "config", "/etc/prometheus/prometheus.yml"]),
    ("otel-collector", ["validate", "--config=/etc/otelcol-contrib/config.yaml"]),
    ("otel-collector-sampler-1", ["validate", "--config=/etc/otelcol-contrib/config.yaml"]),
    ("gateway", ["nginx", "-t"]),
])
def test_validator_arguments_extend_the_service_command(service, expected):
    argv = validators.docker_run_argv(BY_SERVICE[service], SERVICES[service], REPO)
    assert argv[-len(expected):] == expected


def test_promtool_checks_the_file_prometheus_is_started_with():
    assert "--config.file=/etc/prometheus/prometheus.yml" in SERVICES["prometheus"]["command"]
    argv = validators.docker_run_argv(BY_SERVICE["prometheus"], SERVICES["prometheus"], REPO)
    assert argv[argv.index("--entrypoint") + 1] == "/bin/promtool"


@pytest.mark.parametrize(("service", "mounts"), [
    ("tempo", [("observability/tempo/tempo.yaml", "/etc/tempo/tempo.yaml")]),  # not its data volume
    ("loki", [("observability/loki/loki.yaml", "/etc/loki/loki.yaml")]),
    ("promtail", [("observability/promtail/promtail.yaml", "/etc/promtail/promtail.yaml")]),  # not the Docker socket
    ("prometheus", [("observability/prometheus/prometheus.yml", "/etc/prometheus/prometheus.yml")]),
    ("otel-collector", [("observability/otel-collector-routing.yaml", "/etc/otelcol-contrib/config.yaml")]),
    ("otel-collector-sampler-1", [("observability/otel-collector.yaml", "/etc/otelcol-contrib/config.yaml")]),
    ("gateway", [("nginx/nginx.conf", "/etc/nginx/nginx.conf"),
                 ("nginx/default.conf.template", "/etc/nginx/templates/default.conf.template")]),
])
def test_project_files_are_mounted_read_only_where_compose_mounts_them(service, mounts):
    argv = validators.docker_run_argv(BY_SERVICE[service], SERVICES[service], REPO)
    volumes = [argv[i + 1] for i, part in enumerate(argv) if part == "--volume"]
    assert volumes == [f"{REPO / source}:{target}:ro" for source, target in mounts]


@pytest.mark.parametrize(("service", "variable", "value"), [
    ("otel-collector", "COLLECTOR_ROUTING_RESOLVER",
     '{dns: {hostname: otel-collector-sampler, port: "4317", interval: 5s}}'),
    ("otel-collector", "COLLECTOR_OTLP_HTTP_PORT", DOTENV["COLLECTOR_OTLP_HTTP_PORT"]),
    ("otel-collector", "COLLECTOR_TELEMETRY_PORT", "8888"),
    ("otel-collector-sampler-1", "TRACE_STORE_OTLP_ENDPOINT", "http://tempo:4318"),
    ("otel-collector-sampler-1", "SAMPLING_BASELINE_PERCENT", "100"),  # the compose default
    ("otel-collector-sampler-1", "COLLECTOR_QUEUE_DIR", "/var/lib/otelcol/file_storage"),
    ("gateway", "GATEWAY_LISTEN", DOTENV["GATEWAY_PORT"]),
    ("gateway", "SERVICE_B_ADDR", f"service-b:{DOTENV['SERVICE_B_PORT']}"),
    ("gateway", "GATEWAY_UPSTREAM_RESOLVE", "resolve"),
])
def test_environment_is_the_service_environment_compose_gives(service, variable, value):
    argv = validators.docker_run_argv(BY_SERVICE[service], SERVICES[service], REPO)
    assert f"{variable}={value}" in [argv[i + 1] for i, part in enumerate(argv) if part == "--env"]


def test_the_shell_environment_overrides_dotenv_as_in_compose():
    services = validators.compose_services(REPO, {**DOTENV, "SAMPLING_BASELINE_PERCENT": "5"})
    assert validators.service_environment(services["otel-collector-sampler-1"])["SAMPLING_BASELINE_PERCENT"] == "5"


@pytest.mark.parametrize(("environment", "expected"), [
    ({"A": "x", "B": 3, "C": True, "D": None}, {"A": "x", "B": "3", "C": "true"}),
    (["A=x", "B=a=b", "C="], {"A": "x", "B": "a=b", "C": ""}),
    (["FROM_SHELL"], {}),
    (None, {}),
])
def test_environment_forms(environment, expected):
    assert validators.service_environment({"environment": environment}) == expected


def test_every_project_file_a_service_mounts_is_validated_or_said_why_not():
    def mounted(services):
        return {path.relative_to(REPO).as_posix() for service in services
                for path, _ in validators.project_files(service, REPO)}

    validated = mounted(SERVICES[validator.service] for validator in validators.VALIDATORS)
    assert mounted(SERVICES.values()) - validated == set(NOT_VALIDATED)


class FakeDocker:
    """subprocess.run answering `docker image inspect` and `docker run`."""

    def __init__(self, image_present=True, exit_code=0, output="", run_raises=None, installed=True):
        self.image_present, self.exit_code, self.output = image_present, exit_code, output
        self.run_raises, self.installed = run_raises, installed

    def __call__(self, argv, **_):
        if not self.installed:
            raise FileNotFoundError(argv[0])
        if argv[:3] == ["docker", "image", "inspect"]:
            missing = "" if self.image_present else f"Error response from daemon: No such image: {argv[3]}"
            return subprocess.CompletedProcess(argv, 0 if self.image_present else 1, "[]", missing)
        if self.run_raises:
            raise self.run_raises
        return subprocess.CompletedProcess(argv, self.exit_code, "", self.output)


@pytest.mark.parametrize(("docker", "ok", "ran", "in_detail"), [
    (FakeDocker(), True, True, "exit 0"),
    (FakeDocker(exit_code=1, output="line 1\n'tracess' has invalid keys"), False, True, "tracess"),
    (FakeDocker(run_raises=subprocess.TimeoutExpired("docker", 120)), False, True, "no answer"),
    (FakeDocker(image_present=False), False, False, "No such image"),
    (FakeDocker(installed=False), False, False, "no docker"),
])
def test_verdict_tells_pass_fail_and_not_run_apart(docker, ok, ran, in_detail):
    verdict = validators.run_validator(["docker", "run", "image"], "image", run=docker)
    assert (verdict.ok, verdict.ran) == (ok, ran) and in_detail in verdict.detail


def test_existing_verdicts_count_as_run():
    assert Verdict(True, "x").ran and Verdict(False, "x").ran


def test_checks_are_named_by_service_and_command():
    names = [name for name, _ in validators.validator_checks(REPO)]
    assert names[0] == ("tempo: grafana/tempo:2.9.0 -config.file=/etc/tempo/tempo.yaml -config.expand-env=true "
                        "-config.verify=true")
    assert len(names) == len(validators.VALIDATORS) == len(set(names))


"""Each pinned image's own config validator, run on the project's files.

A validator runs in the image docker-compose.yml gives its service, with the
project files that service mounts (read-only, at the same paths), the same
environment and the same command, plus the validator's flag:
`docker run --rm --network none ...`. The compose file is read here, with
.env interpolated as compose does, so `docker compose` itself is not needed.
Nothing is pulled: a validator whose image is not on the machine is reported
as not run (Verdict.ran False), which is neither a pass nor a failure.

    python -m tools.compose_check.validators    one line per validator; exit 1 on a failure
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import yaml

from tools.native.settings import REPO, read_dotenv

from .responses import Verdict, not_run

COMPOSE_FILE = "docker-compose.yml"
# Stands for the service's own `command:` among a validator's arguments.
COMMAND = "<service command>"
TIMEOUT_S = 120


@dataclass(frozen=True)
class Validator:
    service: str  # the compose service whose image, files, environment and command it uses
    arguments: tuple[str, ...]  # what follows the image name; COMMAND expands in place
    entrypoint: str | None = None  # only where the image's own entrypoint is not the validator


VALIDATORS = (
    # Tempo also registers this flag as one taking a value: a bare -config.verify is refused.
    Validator("tempo", (COMMAND, "-config.verify=true")),
    Validator("loki", (COMMAND, "-verify-config")),
    Validator("promtail", (COMMAND, "-check-syntax")),
    # The image's entrypoint is the server; promtool is beside it.
    Validator("prometheus", ("check", "config", "/etc/prometheus/prometheus.yml"), entrypoint="/bin/promtool"),
    Validator("otel-collector", ("validate", COMMAND)),
    # otel-collector-sampler-2 runs the same file with the same environment.
    Validator("otel-collector-sampler-1", ("validate", COMMAND)),
    # The image's entrypoint renders /etc/nginx/templates/ first when the command is nginx.
    Validator("gateway", ("nginx", "-t")),
)


# ------------------------------------------------------------ the compose file

# $$ (a literal $), ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error},
# ${NAME?error}, ${NAME:+other}, ${NAME+other} and $NAME, as the compose spec defines them.
_VARIABLE = re.compile(r"\$(?:(?P<dollar>\$)|\{(?P<name>\w+)(?:(?P<operator>:?[-?+])(?P<word>[^}]*))?\}|(?P<bare>\w+))")


def interpolate(text: str, variables: Mapping[str, str]) -> str:
    def value(match: re.Match) -> str:
        if match["dollar"]:
            return "$"
        name, operator, word = match["name"] or match["bare"], match["operator"] or "", match["word"] or ""
        # With a colon, set-but-empty counts as unset.
        present = bool(variables.get(name)) if operator.startswith(":") else name in variables
        if operator.endswith("-"):
            return variables[name] if present else word
        if operator.endswith("?"):
            if not present:
                raise ValueError(f"${{{name}}}: {word or 'not set'}")
            return variables[name]
        if operator.endswith("+"):
            return word if present else ""
        return variables.get(name, "")  # compose warns and substitutes nothing

    return _VARIABLE.sub(value, text)


def _interpolated(node, variables: Mapping[str, str]):
    if isinstance(node, str):
        return interpolate(node, variables)
    if isinstance(node, dict):
        return {key: _interpolated(value, variables) for key, value in node.items()}
    if isinstance(node, list):
        return [_interpolated(item, variables) for item in node]
    return node


def compose_services(project: Path = REPO, variables: Mapping[str, str] | None = None) -> dict[str, dict]:
    """The services of the project's compose file, interpolated from `variables`
    (by default what compose uses: the shell's environment over .env)."""
    if variables is None:
        variables = {**read_dotenv(project / ".env"), **os.environ}
    return _interpolated(yaml.safe_load((project / COMPOSE_FILE).read_text())["services"], variables)


def _as_text(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def service_environment(service: dict) -> dict[str, str]:
    """The variables a service's container gets from its `environment:` (a
    mapping or KEY=VALUE items). One without a value would come from the shell
    that runs compose: it is left out."""
    entries = service.get("environment") or {}
    if isinstance(entries, list):
        entries = {name: value if sep else None for name, sep, value in (e.partition("=") for e in entries)}
    return {name: _as_text(value) for name, value in entries.items() if value is not None}


def project_files(service: dict, project: Path) -> list[tuple[Path, str]]:
    """(file in the project, path in the container) of each bind mount from the
    project directory (`./...` in the short volume syntax). Named volumes (the
    stack's data) and host paths such as the Docker socket are left out: no
    validator here reads them."""
    files = []
    for volume in service.get("volumes") or []:
        if not isinstance(volume, str):
            raise ValueError(f"only the short volume syntax is read here: {volume!r}")
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            files.append((project.resolve() / source, target))
    return files


def _command(service: dict) -> list[str]:
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def arguments(validator: Validator, service: dict) -> list[str]:
    return [part for argument in validator.arguments
            for part in (_command(service) if argument == COMMAND else [argument])]


def docker_run_argv(validator: Validator, service: dict, project: Path) -> list[str]:
    argv = ["docker", "run", "--rm", "--network", "none"]
    if validator.entrypoint:
        argv += ["--entrypoint", validator.entrypoint]
    for source, target in project_files(service, project):
        argv += ["--volume", f"{source}:{target}:ro"]
    for name, value in service_environment(service).items():
        argv += ["--env", f"{name}={value}"]
    return [*argv, service["image"], *arguments(validator, service)]


def check_name(validator: Validator, service: dict) -> str:
    program = [validator.entrypoint] if validator.entrypoint else []
    return f"{validator.service}: {' '.join([service['image'], *program, *arguments(validator, service)])}"


# ------------------------------------------------------------------ running

def _tail(output: str, lines: int = 3, limit: int = 600) -> str:
    kept = [line.strip() for line in output.splitlines() if line.strip()][-lines:]
    return " | ".join(kept)[-limit:]


def run_validator(argv: list[str], image: str, run: Callable = subprocess.run) -> Verdict:
    """Verdict(ran=False) when the image is not on this machine (or no engine answers)."""
    try:
        present = run(["docker", "image", "inspect", image], capture_output=True, text=True)
    except FileNotFoundError:
        return not_run("not run: no docker command on this machine")
    if present.returncode != 0:
        return not_run(f"not run: docker image inspect {image}: {_tail(present.stderr, lines=1)}")
    try:
        result = run(argv, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return Verdict(False, f"no answer within {TIMEOUT_S} s")
    output = _tail(result.stdout + "\n" + result.stderr)
    return Verdict(result.returncode == 0, f"exit {result.returncode}" + (f": {output}" if output else ""))


def validator_checks(project: Path = REPO) -> list[tuple[str, Callable[[], Verdict]]]:
    services = compose_services(project)
    checks = []
    for validator in VALIDATORS:
        service = services[validator.service]
        argv = docker_run_argv(validator, service, project)
        checks.append((check_name(validator, service),
                       lambda argv=argv, image=service["image"]: run_validator(argv, image)))
    return checks


def status(verdict: Verdict) -> str:
    return "PASS" if verdict.ok else "FAIL" if verdict.ran else "NOT RUN"


def main() -> int:
    checks = validator_checks()
    width = max(len(name) for name, _ in checks)
    failed = 0
    for name, check in checks:
        verdict = check()
        failed += verdict.ran and not verdict.ok
        print(f"{status(verdict):<7}  {name:<{width}}  {verdict.detail}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Render nginx/default.conf.template for a local, unprivileged nginx.

The official nginx image fills the template's ${UPPER_CASE} variables with
envsubst and includes the result inside its http {} block. Here a small main
config plays that part, with every writable path under .native/run/nginx.
"""

from __future__ import annotations

import os
import pwd
import re
from pathlib import Path

from .settings import LOGS, REPO, RUN, Ports, LOOPBACK

TEMPLATE = REPO / "nginx" / "default.conf.template"
PREFIX = RUN / "nginx"
TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def template_variables(ports: Ports) -> dict[str, str]:
    return {
        "GATEWAY_LISTEN": f"{LOOPBACK}:{ports.gateway}",
        "SERVICE_A_ADDR": f"{LOOPBACK}:{ports.services['service-a']}",
        "SERVICE_B_ADDR": f"{LOOPBACK}:{ports.services['service-b']}",
        "SERVICE_C_ADDR": f"{LOOPBACK}:{ports.services['service-c']}",
        "GATEWAY_ACCESS_LOG": str(LOGS / "gateway.log"),
    }


def render_template(text: str, variables: dict[str, str]) -> str:
    """Substitute only the named variables, as the image's envsubst step does:
    nginx's own $variables must survive untouched."""
    pattern = re.compile(r"\$\{(" + "|".join(map(re.escape, variables)) + r")\}")
    rendered = pattern.sub(lambda m: variables[m.group(1)], text)
    leftover = re.findall(r"\$\{[A-Z][A-Z0-9_]*\}", rendered)
    if leftover:
        raise ValueError(f"template variables without a value: {sorted(set(leftover))}")
    return rendered


def main_config(include: Path) -> str:
    worker_user = ""
    if os.geteuid() == 0:
        # As root, nginx drops its workers to `nobody`; they need the temp dirs.
        worker_user = "user nobody nogroup;\n"
    temp_paths = "".join(
        f"    {name}_temp_path {PREFIX / 'temp' / name};\n" for name in TEMP_DIRS
    )
    return (
        f"{worker_user}"
        "worker_processes 1;\n"
        "daemon off;\n"
        f"pid {PREFIX / 'nginx.pid'};\n"
        f"error_log {LOGS / 'gateway-error.log'} warn;\n"
        "events { worker_connections 512; }\n"
        "http {\n"
        "    default_type application/octet-stream;\n"
        f"{temp_paths}"
        f"    include {include};\n"
        "}\n"
    )


def prepare(ports: Ports) -> Path:
    """Write the rendered config; returns the main config's path."""
    include = PREFIX / "gateway.conf"
    main = PREFIX / "nginx.conf"
    for name in TEMP_DIRS:
        (PREFIX / "temp" / name).mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        for name in TEMP_DIRS:
            os.chown(PREFIX / "temp" / name, nobody.pw_uid, nobody.pw_gid)
    LOGS.mkdir(parents=True, exist_ok=True)
    include.write_text(render_template(TEMPLATE.read_text(), template_variables(ports)))
    main.write_text(main_config(include))
    return main


def command(nginx: str, main: Path) -> list[str]:
    return [nginx, "-p", str(PREFIX), "-e", str(LOGS / "gateway-error.log"), "-c", str(main)]

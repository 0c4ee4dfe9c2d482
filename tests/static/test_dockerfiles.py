"""The service Dockerfiles (written by each service's owner) pass hadolint,
build FROM base images pinned to a version, and run as a non-root user."""

from __future__ import annotations

import re
import subprocess

import pytest

from .repo_files import REPO, SERVICES
from .tools_on_path import venv_tool

_FROM = re.compile(r"^FROM\s+(?:--platform=\S+\s+)?(?P<image>\S+)(?:\s+AS\s+(?P<alias>\S+))?", re.I | re.M)
_ARG = re.compile(r"^ARG\s+(?P<name>\w+)=(?P<value>\S+)", re.I | re.M)
_USER = re.compile(r"^USER\s+(?P<user>\S+)", re.I | re.M)


def _dockerfile(service: str) -> str:
    path = REPO / service / "Dockerfile"
    assert path.is_file(), f"{service}/Dockerfile is missing"
    return path.read_text()


def _base_images(text: str) -> list[str]:
    """FROM images with ARG defaults substituted; earlier stages are not images."""
    defaults = {m["name"]: m["value"].strip("\"'") for m in _ARG.finditer(text)}
    aliases, images = set(), []
    for match in _FROM.finditer(text):
        image = re.sub(r"\$\{?(\w+)\}?", lambda m: defaults.get(m[1], m[0]), match["image"])
        if image.lower() not in aliases and image != "scratch":
            images.append(image)
        if match["alias"]:
            aliases.add(match["alias"].lower())
    return images


@pytest.mark.parametrize("service", SERVICES)
def test_dockerfile_passes_hadolint(service):
    _dockerfile(service)
    result = subprocess.run(
        [venv_tool("hadolint"), "--no-color", str(REPO / service / "Dockerfile")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_base_images_are_pinned(service):
    images = _base_images(_dockerfile(service))
    assert images, "no FROM line"
    for image in images:
        name, _, tag = image.partition("@")[0].rpartition(":")
        pinned_by_digest = "@sha256:" in image
        assert pinned_by_digest or (name and tag != "latest" and re.search(r"\d", tag)), f"{image} is not pinned"


@pytest.mark.parametrize("service", SERVICES)
def test_final_stage_runs_as_non_root(service):
    text = _dockerfile(service)
    final_stage = text[list(_FROM.finditer(text))[-1].start():]
    users = [m["user"] for m in _USER.finditer(final_stage)]
    assert users, "the final stage sets no USER, so it runs as root"
    assert users[-1].split(":")[0] not in {"root", "0"}, f"runs as {users[-1]}"

"""Every YAML file of the compose mode parses and passes yamllint (.yamllint)."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from .repo_files import REPO, relative, yaml_files
from .tools_on_path import venv_tool


@pytest.mark.parametrize("path", yaml_files(), ids=relative)
def test_yaml_parses(path):
    assert yaml.safe_load(path.read_text()) is not None


@pytest.mark.parametrize("path", yaml_files(), ids=relative)
def test_yamllint_reports_no_error(path):
    result = subprocess.run(
        [venv_tool("yamllint"), "--config-file", str(REPO / ".yamllint"), "--format", "parsable", str(path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr

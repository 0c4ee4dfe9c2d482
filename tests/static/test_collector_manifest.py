"""The native Collector is built with exactly the components its configs use,
from the Go module the Collector Builder generated from the manifest.

Each component in observability/collector-builder.yaml is minutes of a cold
`make up` (issue 19), so one no config uses must go; and one a config uses but
the manifest lacks makes the native Collector refuse that config at start. A
module's last path element is its type without underscores plus its kind
(`loadbalancingexporter` is the exporter `load_balancing`,
`storage/filestorage` the extension `file_storage`).

The generated module (tools/native/collector-module) is committed so that a
build needs no builder; a manifest changed without it would build the old
Collector on a fresh clone only after regenerating, which the build does, but a
stale commit is caught here.
"""

from __future__ import annotations

import re

import pytest

from tools.native import build

from .repo_files import OBSERVABILITY, load

MANIFEST = load(OBSERVABILITY / "collector-builder.yaml")
CONFIGS = [load(OBSERVABILITY / name) for name in ("otel-collector.yaml", "otel-collector-routing.yaml")]
KINDS = {"receivers": "receiver", "processors": "processor", "exporters": "exporter",
         "connectors": "connector", "extensions": "extension"}


def built(section: str) -> set[str]:
    """Component types the manifest builds in: `.../batchprocessor v0.161.0` -> `batch`."""
    suffix = KINDS[section]
    names = {entry["gomod"].split()[0].rsplit("/", 1)[-1] for entry in MANIFEST.get(section) or []}
    return {name.removesuffix(suffix) for name in names}


def used(section: str) -> set[str]:
    """Component types some config declares, underscores dropped (`load_balancing` -> `loadbalancing`)."""
    return {component_id.partition("/")[0].replace("_", "")
            for config in CONFIGS for component_id in (config.get(section) or {})}


@pytest.mark.parametrize("section", KINDS)
def test_every_built_component_is_used_by_a_config(section):
    unused = built(section) - used(section)
    assert not unused, f"collector-builder.yaml builds {section} no config uses: {sorted(unused)}"


@pytest.mark.parametrize("section", KINDS)
def test_every_component_a_config_uses_is_built(section):
    missing = used(section) - built(section)
    assert not missing, f"the configs use {section} collector-builder.yaml does not build: {sorted(missing)}"


def test_module_names_are_read_as_types():
    assert "storage/filestorage" in str(MANIFEST["extensions"]) and "filestorage" in built("extensions")
    assert "loadbalancing" in built("exporters") and "otlphttp" in built("exporters")


def manifest_modules() -> dict[str, str]:
    """Every module the manifest names (components and providers), with its version."""
    entries = [entry["gomod"].split() for section in (*KINDS, "providers") for entry in MANIFEST.get(section) or []]
    return {path: version for path, version in entries}


def test_the_committed_module_was_generated_from_this_manifest():
    recorded = build.COLLECTOR_GENERATED_FROM.read_text().strip()
    assert recorded == build.collector_manifest_fingerprint(), (
        "collector-builder.yaml changed after tools/native/collector-module was generated: "
        "`python3 -m tools.native build` regenerates it; commit the result")


def test_the_committed_module_builds_in_every_manifest_module_at_its_version():
    go_mod = (build.COLLECTOR_MODULE / "go.mod").read_text()
    imported = set(re.findall(r'^\s*\w+ "([^"]+)"$', (build.COLLECTOR_MODULE / "components.go").read_text()
                              + (build.COLLECTOR_MODULE / "main.go").read_text(), flags=re.MULTILINE))
    for path, version in manifest_modules().items():
        assert path in imported, f"components.go or main.go does not import {path}"
        assert f"\t{path} {version}\n" in go_mod, f"go.mod does not require {path} {version}"
    for replace in MANIFEST.get("replaces") or []:
        assert f"replace {replace}\n" in go_mod, f"go.mod lacks the manifest's replace {replace}"

"""Where the compose-mode files are, loaded once for every static test.

Loading happens at import time on purpose: the tests are parametrized over what
these files contain (one case per service, port, mount, panel...), and pytest
builds its parameters while collecting.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tools.native.settings import read_dotenv  # the one .env parser, shared with the native runner

REPO = Path(__file__).resolve().parents[2]

COMPOSE_FILE = REPO / "docker-compose.yml"
OBSERVABILITY = REPO / "observability"
ALLOWLIST_FILE = Path(__file__).with_name("allowed_config_keys.yaml")
CONFIG_KEYS_DOC = REPO / "docs" / "config-keys.md"

DATASOURCES_FILE = OBSERVABILITY / "grafana" / "provisioning" / "datasources" / "datasources.yaml"
DASHBOARD_PROVIDERS_FILE = OBSERVABILITY / "grafana" / "provisioning" / "dashboards" / "dashboards.yaml"
DASHBOARDS_DIR = OBSERVABILITY / "grafana" / "dashboards"
TEMPO_FILE = OBSERVABILITY / "tempo" / "tempo.yaml"
LOKI_FILE = OBSERVABILITY / "loki" / "loki.yaml"
PROMTAIL_FILE = OBSERVABILITY / "promtail" / "promtail.yaml"
PROMETHEUS_FILE = OBSERVABILITY / "prometheus" / "prometheus.yml"
LOG_SCHEMA_FILE = OBSERVABILITY / "log-schema.json"

SERVICES = ("service-a", "service-b", "service-c")


def load(path: Path):
    """Parse a YAML or JSON file (JSON is YAML, but its errors read better)."""
    text = path.read_text()
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


def relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def yaml_files() -> list[Path]:
    found = [p for p in OBSERVABILITY.rglob("*") if p.suffix in (".yaml", ".yml")]
    return sorted(found + [COMPOSE_FILE, ALLOWLIST_FILE])


def dashboard_files() -> list[Path]:
    return sorted(DASHBOARDS_DIR.glob("*.json"))


def dashboard_queries(datasource_type: str) -> list[tuple[str, str]]:
    """(dashboard file, query) of every panel target of one data source type."""
    return [
        (relative(path), target["query" if datasource_type == "tempo" else "expr"])
        for path in dashboard_files()
        for panel in load(path)["panels"]
        for target in panel["targets"]
        if target["datasource"]["type"] == datasource_type and (datasource_type != "tempo" or "query" in target)
    ]


DOTENV = read_dotenv(REPO / ".env")
COMPOSE = load(COMPOSE_FILE)
ALLOWLIST = load(ALLOWLIST_FILE)

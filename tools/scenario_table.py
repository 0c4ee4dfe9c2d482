"""Read scenarios/scenarios.json, the table of demo scenarios and their expected traces.

Standard library only: tools/demo.py and tools/gen_scenarios_doc.py run
without the tooling virtualenv. The e2e suite reads the table through here too,
so all three agree on what a scenario is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[1]
SCENARIOS_FILE = REPO / "scenarios" / "scenarios.json"
# A scenario added without a load_weight is still load-tested.
DEFAULT_LOAD_WEIGHT = 1


def load_scenarios(path: Path = SCENARIOS_FILE) -> list[dict]:
    return json.loads(path.read_text())["scenarios"]


def scenario_names(scenarios: list[dict]) -> list[str]:
    return [scenario["name"] for scenario in scenarios]


def select(scenarios: list[dict], names: list[str]) -> list[dict]:
    """The named scenarios in the order given; all of them when no name is given."""
    if not names:
        return list(scenarios)
    by_name = {scenario["name"]: scenario for scenario in scenarios}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise KeyError(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(by_name)}")
    return [by_name[name] for name in names]


def load_weight(scenario: dict) -> int:
    """How many times the load generator sends this scenario per pass through its mix."""
    weight = scenario.get("load_weight", DEFAULT_LOAD_WEIGHT)
    if type(weight) is not int or weight < 0:
        raise ValueError(f"scenario {scenario['name']!r}: load_weight must be a whole number >= 0, not {weight!r}")
    return weight


def walk(node: dict) -> Iterator[dict]:
    """Every hop of an expected tree, depth first, parents before children."""
    yield node
    for child in node.get("children", []):
        yield from walk(child)


def hop_count(tree: dict) -> int:
    """How many SERVER and CLIENT spans the scenario's trace must hold."""
    return sum(1 for _ in walk(tree))


def participating_services(tree: dict) -> set[str]:
    return {node["service"] for node in walk(tree)}

"""docs/scenarios.md must be what tools/gen_scenarios_doc.py makes of the table."""

from __future__ import annotations

from tools import gen_scenarios_doc
from tools.scenario_table import load_scenarios


def test_committed_doc_is_up_to_date():
    assert gen_scenarios_doc.DOC.read_text() == gen_scenarios_doc.render(load_scenarios()), (
        "docs/scenarios.md is stale: run python3 tools/gen_scenarios_doc.py"
    )


def test_doc_shows_every_scenario_with_its_marks():
    text = gen_scenarios_doc.DOC.read_text()
    for scenario in load_scenarios():
        assert f"### `{scenario['name']}`" in text
    assert "service-a CLIENT -> service-c  [no response, ERROR]" in text  # failure-timeout
    assert "service-b SERVER /api/process  [508, ERROR, exception]" in text  # hop-limit
    assert "with `X-Hop-Count: 5`" in text

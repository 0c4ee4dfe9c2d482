"""docs/contract.md, "Secrets never stored": the Collector's transform/redact,
the one place credentials are redacted, and the contract's text apply the
credential rule of observability/credential-redaction.json
(tests/e2e/test_65_secrets.py runs the table through the real Collector)."""

from __future__ import annotations

import json
import re

import pytest

from tools.credential_pattern import RULE_FILE, credential_names, ottl_string, pattern

from .repo_files import OBSERVABILITY, REPO, load

RULE = json.loads(RULE_FILE.read_text())
CONTRACT = REPO / "docs" / "contract.md"


def expected_groups() -> list[list[str]]:
    """Span statements and span-event statements in separate groups: one group
    naming spanevent would run in that context, never for a span without events."""
    literal = ottl_string(pattern(credential_names()))
    return [[f'replace_all_patterns(span.attributes, "value", "{literal}", "${{1}}REDACTED")',
             f'replace_pattern(span.status.message, "{literal}", "${{1}}REDACTED")'],
            [f'replace_all_patterns(spanevent.attributes, "value", "{literal}", "${{1}}REDACTED")']]


def test_the_collector_redacts_spans_events_and_statuses_with_the_generated_pattern():
    redact = load(OBSERVABILITY / "otel-collector.yaml")["processors"]["transform/redact"]
    # The YAML file writes $$ for a literal $ (the Collector's own escaping).
    groups = [[statement.replace("$$", "$") for statement in group["statements"]]
              for group in redact["trace_statements"]]
    assert groups == expected_groups(), \
        "rewrite transform/redact's statements with `python3 -m tools.credential_pattern --ottl`"


@pytest.mark.parametrize("case", RULE["cases"], ids=lambda case: case["why"])
def test_the_pattern_follows_the_table(case):
    """The generator against the table (Python's re reads this pattern as RE2 does)."""
    redacted = re.sub(pattern(credential_names()), lambda match: f"{match.group(1)}REDACTED", case["text"])
    assert redacted == case["redacted"]


def test_the_contract_lists_the_names():
    section = CONTRACT.read_text().split("### Secrets never stored", 1)[1]
    listed = section.split("case one of:", 1)[1].split("4. ", 1)[0]
    assert re.findall(r"`([^`]+)`", listed) == RULE["names"]

"""Suite-wide setup: every test under tests/e2e/ carries the `e2e` marker, so
`-m "not e2e"` runs the checks that need no stack."""

from __future__ import annotations

from pathlib import Path

import pytest

E2E_DIR = Path(__file__).parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)

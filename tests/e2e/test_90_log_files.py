"""Last of the session: every line each process wrote, including after the
hostile inputs and the Collector outage, is one JSON object matching
observability/log-schema.json. (Lines written during shutdown are checked by
the stack fixture's teardown.)"""

from __future__ import annotations

import pytest

from tests.support.logs import invalid_lines
from tools.native.stack import SERVICES


@pytest.mark.parametrize("process", ["gateway", *SERVICES])
def test_every_log_line_matches_the_schema(stack, process):
    path = stack.log_path(process)
    assert path.exists() and path.stat().st_size > 0, f"{path} is missing or empty"
    broken = invalid_lines(path)
    assert not broken, "\n".join(broken)

"""tools/trace/render.py on the recorded traces of both stores: what reaches
the screen is the layout (same rows, same bars), fits the width, and carries
colour only when asked to."""

from __future__ import annotations

import io
import math
import re

import pytest
from rich.console import Console

from tests.tooling.stored_traces import SCENARIOS, load
from tools.trace.layout import STEPS_PER_COLUMN, Layout
from tools.trace.render import Verdict, label, print_trace

STORES = ("jaeger", "tempo")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
COLOUR_SGR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-7]|9[0-7]|38;[25];[0-9;]+)(?:;[0-9;]*)?m")
BAR_CHARACTERS = set("█▐▕▏▎▍▌▋▊▉")


def render(trace, width: int, **console_options) -> tuple[Layout, str]:
    out = io.StringIO()
    console = Console(file=out, width=width, **console_options)
    layout = print_trace(console, trace, Verdict(True, "yes: recorded"))
    return layout, out.getvalue()


def span_lines(layout: Layout, text: str) -> list[str]:
    """The output lines that draw a span: after the column titles, skipping error and log lines."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("span ")) + 1
    drawn = [line for line in lines[start:] if set(line[-layout.bar_columns:]) & BAR_CHARACTERS]
    assert len(drawn) == len(layout.rows), text
    return drawn


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("width", [60, 100, 160])
def test_plain_output_draws_the_layout_within_the_width(store, scenario, width):
    layout, text = render(load(store, scenario), width, force_terminal=False)
    assert not ANSI.search(text), "escape codes in output that is not a terminal"
    too_wide = [line for line in text.splitlines() if len(line) > width]
    assert not too_wide, too_wide

    for row, line in zip(layout.rows, span_lines(layout, text)):
        assert line.startswith(row.guides), (row.guides, line)
        assert row.span.service in line or "…" in line
        assert ("✗" in line) == (row.error is not None), line
        # The painted cells are the row's steps, rounded out to whole cells.
        bar = line[len(line) - layout.bar_columns:] if len(line) >= layout.bar_columns else line
        painted = [i for i, char in enumerate(bar) if char in BAR_CHARACTERS]
        assert painted[0] == row.begin // STEPS_PER_COLUMN, (row, bar)
        assert painted[-1] == math.ceil(row.end / STEPS_PER_COLUMN) - 1, (row, bar)


@pytest.mark.parametrize("store", STORES)
def test_header_names_both_ids_duration_and_spans_per_service(store):
    trace = load(store, "failure-cascade")
    layout, text = render(trace, 100, force_terminal=False)
    head = text.split("\n\n")[0]
    [x_trace_id] = layout.x_trace_ids
    assert re.search(rf"^X-Trace-ID\s+{x_trace_id}\s*$", head, re.M), head
    assert re.search(rf"^trace id\s+{trace.trace_id}\s", head, re.M), head
    per_service = ", ".join(f"{service} {count}" for service, count in layout.spans_per_service.items())
    assert f"{layout.duration_ms:.1f} ms, {len(trace.spans)} spans ({per_service})" in head, head
    assert "complete    yes: recorded" in head


@pytest.mark.parametrize("store", STORES)
def test_error_spans_are_red_on_a_terminal_and_marked_in_words_everywhere(store):
    trace = load(store, "failure-cascade")
    layout, coloured = render(trace, 120, force_terminal=True, color_system="standard")
    assert COLOUR_SGR.search(coloured)
    error_rows = [row for row in layout.rows if row.error]
    assert error_rows
    for row in error_rows:
        detail = f"ERROR {row.error.text()}"
        [line] = [line for line in coloured.splitlines() if ANSI.sub("", line).strip() == detail]
        assert "\x1b[31m" in line or "\x1b[1;31m" in line or ";31m" in line, repr(line)
    _, plain = render(trace, 120, force_terminal=False)
    assert sum(line.strip().startswith("ERROR ") for line in plain.splitlines()) == len(error_rows)


def test_no_color_keeps_a_terminal_free_of_colour(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    _, text = render(load("jaeger", "failure-cascade"), 100, force_terminal=True, color_system="standard")
    assert not COLOUR_SGR.search(text), repr(text[:400])
    assert "ERROR " in ANSI.sub("", text)


@pytest.mark.parametrize("store", STORES)
def test_fit_labels_widens_a_narrow_console_so_no_label_is_cut(store):
    trace = load(store, "failure-cascade")
    out = io.StringIO()
    layout = print_trace(Console(file=out, width=60, force_terminal=False), trace, fit_labels=True)
    labels = [label(row).plain for row in layout.rows]
    assert all(text in out.getvalue() for text in labels), "a label was cut"

"""tools/trace/layout.py on recorded traces of every scenario kind, read
through both stores' clients: tree shape and order, ERROR marks, and bars on
one axis (parallel calls overlap, sequential ones do not)."""

from __future__ import annotations

import pytest

from tests.tooling.stored_traces import SCENARIOS, load
from tools.trace.layout import STEPS_PER_COLUMN, Layout, Row, build

STORES = ("jaeger", "tempo")
BAR_COLUMNS = 60

# Per recorded scenario, the SERVER/CLIENT rows top to bottom: (depth, "service KIND", HTTP status, ERROR?).
# Siblings are in start order, so a parallel pair is in the order the calls were made.
OUTLINES = {
    "parallel": [
        (0, "service-a SERVER", 200, False),
        (1, "service-a CLIENT", 200, False),  # this time the call to C started first
        (2, "service-c SERVER", 200, False),
        (1, "service-a CLIENT", 200, False),
        (2, "service-b SERVER", 200, False),
    ],
    "sequential": [
        (0, "service-a SERVER", 200, False),
        (1, "service-a CLIENT", 200, False),
        (2, "service-b SERVER", 200, False),
        (1, "service-a CLIENT", 200, False),
        (2, "service-c SERVER", 200, False),
    ],
    "circular": [
        (0, "service-c SERVER", 200, False),
        (1, "service-c CLIENT", 200, False),
        (2, "service-a SERVER", 200, False),
    ],
    "failure-timeout": [
        (0, "service-a SERVER", 504, True),
        (1, "service-a CLIENT", None, True),  # to C: timed out, no HTTP status
        (2, "service-c SERVER", 200, False),
        (1, "service-a CLIENT", 200, False),
        (2, "service-b SERVER", 200, False),
    ],
    "failure-cascade": [
        (0, "service-a SERVER", 502, True),
        (1, "service-a CLIENT", 502, True),
        (2, "service-b SERVER", 502, True),
        (3, "service-b CLIENT", 500, True),
        (4, "service-c SERVER", 500, True),
    ],
}

# What the ERROR lines must say: (row, text the error line carries). Rows are named
# "service KIND" or "service CLIENT->callee" (the client whose child is callee's server span).
ERROR_TEXTS = {
    "failure-timeout": [
        ("service-a SERVER", "error.type=downstream_timeout · exception *main.apiError: downstream call failed"),
        ("service-a CLIENT->service-c", "error.type=context.deadlineExceededError · exception"),
    ],
    "failure-cascade": [
        ("service-a SERVER", "error.type=downstream_failed · exception *main.apiError"),
        ("service-a CLIENT->service-b", "error.type=502"),
        ("service-b SERVER", "error.type=http.500 · exception DownstreamError: service-c failed: HTTP 500"),
        ("service-b CLIENT->service-c", "error.type=500"),
        ("service-c SERVER", "error.type=500 · exception app.errors.SimulatedFailure: simulated failure"),
    ],
}

# Timing the bars must show: (row, relation, row). A server span may end a little after
# its client span (it ends once the answer is flushed), so nesting is checked by starts.
TIMING = {
    "parallel": [("service-a CLIENT->service-b", "overlaps", "service-a CLIENT->service-c")],
    "sequential": [("service-a CLIENT->service-b", "ends before", "service-a CLIENT->service-c")],
    "circular": [("service-c CLIENT->service-a", "starts within", "service-c SERVER"),
                 ("service-a SERVER", "starts within", "service-c CLIENT->service-a")],
    "failure-timeout": [("service-a CLIENT->service-b", "overlaps", "service-a CLIENT->service-c"),
                        ("service-c SERVER", "outlasts", "service-a CLIENT->service-c"),  # C ran on after A gave up
                        ("service-c SERVER", "outlasts", "service-a SERVER")],
    "failure-cascade": [("service-b SERVER", "starts within", "service-a CLIENT->service-b"),
                        ("service-b CLIENT->service-c", "starts within", "service-b SERVER"),
                        ("service-c SERVER", "starts within", "service-b CLIENT->service-c")],
}


def hops(layout: Layout) -> list[Row]:
    return [row for row in layout.rows if row.span.kind in ("SERVER", "CLIENT")]


def named(layout: Layout, name: str) -> Row:
    if "->" not in name:
        service, kind = name.split()
        return layout.row(service, kind)
    caller, callee = name.split("->")
    service, kind = caller.split()
    rows = list(layout.rows)
    found = [row for i, row in enumerate(rows) if (row.span.service, row.span.kind) == (service, kind)
             and any(r.span.service == callee and r.span.kind == "SERVER" and r.span.parent_span_id == row.span.span_id
                     for r in rows[i + 1:])]
    assert len(found) == 1, f"{len(found)} rows named {name}"
    return found[0]


RELATIONS = {
    "overlaps": lambda a, b: a.overlaps(b),
    "ends before": lambda a, b: a.end <= b.begin and not a.overlaps(b),
    "starts within": lambda a, b: b.begin <= a.begin < b.end,
    "outlasts": lambda a, b: a.end > b.end,
}


@pytest.fixture(scope="module", params=[(s, c) for s in STORES for c in SCENARIOS], ids=lambda p: f"{p[0]}-{p[1]}")
def case(request):
    store, scenario = request.param
    return scenario, build(load(store, scenario), BAR_COLUMNS)


def test_rows_are_the_span_tree_depth_first_children_in_start_order(case):
    scenario, layout = case
    assert len(layout.rows) == sum(layout.spans_per_service.values())
    stack: list[Row] = []
    for row in layout.rows:
        del stack[row.depth:]
        parent = stack[-1] if stack else None
        assert row.span.parent_span_id == (parent.span.span_id if parent else ""), f"{row.span.label()} misplaced"
        assert len(row.guides) == 3 * row.depth and not row.orphan
        stack.append(row)
    for row in layout.rows:
        children = [r.span for r in layout.rows if r.span.parent_span_id == row.span.span_id]
        assert [c.start_ns for c in children] == sorted(c.start_ns for c in children)


def test_hop_outline(case):
    scenario, layout = case
    # INTERNAL spans sit between hops; a hop's depth counts only hops above it.
    depth_of: dict[str, int] = {}
    outline = []
    for row in layout.rows:
        parent_depth = depth_of.get(row.span.parent_span_id, -1)
        is_hop = row.span.kind in ("SERVER", "CLIENT")
        depth_of[row.span.span_id] = parent_depth + 1 if is_hop else parent_depth
        if is_hop:
            outline.append((parent_depth + 1, f"{row.span.service} {row.span.kind}", row.http_status,
                            row.error is not None))
    assert outline == OUTLINES[scenario]


def test_error_marks(case):
    scenario, layout = case
    for row in layout.rows:
        assert (row.error is not None) == (row.span.status == "ERROR"), row.span.label()
    for name, text in ERROR_TEXTS.get(scenario, []):
        row = named(layout, name)
        assert row.error is not None and text in row.error.text(), (name, row.error)
    if scenario not in ERROR_TEXTS:
        assert not [row for row in layout.rows if row.error]


def test_bars_share_one_axis(case):
    scenario, layout = case
    steps = BAR_COLUMNS * STEPS_PER_COLUMN
    assert min(row.begin for row in layout.rows) == 0
    assert max(row.end for row in layout.rows) == steps
    for row in layout.rows:
        assert 0 <= row.begin < row.end <= steps
    for first, relation, second in TIMING[scenario]:
        a, b = named(layout, first), named(layout, second)
        assert RELATIONS[relation](a, b), f"{first} [{a.begin},{a.end}) {relation} {second} [{b.begin},{b.end})"


def synthetic(*intervals: tuple[int, int]):
    """A root from 0 to 1000 ns and one child per (start, end)."""
    from tests.stores.model import Span, Trace
    def span(span_id: str, parent: str, start: int, end: int) -> Span:
        return Span("1" * 32, span_id, parent, "svc", span_id, "CLIENT" if parent else "SERVER", start, end, "UNSET")
    children = [span(f"{i + 2:016x}", "0" * 15 + "1", start, end) for i, (start, end) in enumerate(intervals)]
    return Trace("1" * 32, (span("0" * 15 + "1", "", 0, 1000), *children))


@pytest.mark.parametrize("columns", [1, 7, 13, 60, 97, 200])
@pytest.mark.parametrize("first, second, overlap", [
    ((0, 333), (333, 1000), False),  # touching: one ends as the next starts
    ((100, 500), (501, 900), False),
    ((0, 1), (999, 1000), False),
    ((100, 600), (400, 900), True),
    ((100, 900), (300, 700), True),
])
def test_bars_overlap_exactly_when_spans_overlap_by_a_step(columns, first, second, overlap):
    layout = build(synthetic(first, second), columns)
    a, b = layout.rows[1], layout.rows[2]
    step_ns = 1000 / (columns * STEPS_PER_COLUMN)
    overlap_ns = min(first[1], second[1]) - max(first[0], second[0])
    if overlap_ns >= 2 * step_ns or not overlap:  # a shorter overlap may fall inside one step
        assert a.overlaps(b) is overlap, (a.begin, a.end, b.begin, b.end)


def test_a_zero_length_span_still_gets_a_bar():
    layout = build(synthetic((500, 500)), 40)
    assert layout.rows[1].end - layout.rows[1].begin == 1

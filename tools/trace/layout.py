"""A trace as rows of a waterfall: tree order, depth, and a bar on one time axis.

This is the structured model the renderer draws and the unit tests assert on;
it knows nothing about terminals. Bars are kept in eighths of a column (the
finest step block characters can draw), on an axis from the first span's start
to the last span's end, so every bar is comparable with every other.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from tests.stores.base import X_TRACE_ID_ATTRIBUTE
from tests.stores.model import Span, Trace
from tests.support.trace_tree import STATUS_ATTRIBUTE

STEPS_PER_COLUMN = 8  # block characters draw eighths of a cell


@dataclass(frozen=True)
class ErrorMark:
    """Why a span is ERROR, as its attributes and exception events tell it."""
    error_type: str | None
    exceptions: tuple[str, ...]  # "Type: message" of each exception event

    def text(self) -> str:
        parts = [f"error.type={self.error_type}"] if self.error_type else []
        parts += [f"exception {exception}" for exception in self.exceptions]
        return " · ".join(parts) or "status ERROR (no error.type, no exception event)"


@dataclass(frozen=True)
class Row:
    span: Span
    depth: int
    guides: str  # tree lines drawn before the label, e.g. "│  ├─ "
    begin: int  # bar start, in steps from the axis start (inclusive)
    end: int  # bar end, in steps (exclusive); always > begin, so every span shows
    orphan: bool  # its parent has not reached the store
    error: ErrorMark | None
    logs: tuple[dict, ...] = ()

    @property
    def http_status(self):
        return self.span.attributes.get(STATUS_ATTRIBUTE)

    @property
    def duration_ms(self) -> float:
        return (self.span.end_ns - self.span.start_ns) / 1e6

    def overlaps(self, other: "Row") -> bool:
        """Whether the two bars share any part of the axis."""
        return self.begin < other.end and other.begin < self.end


@dataclass(frozen=True)
class Layout:
    trace_id: str
    x_trace_ids: tuple[str, ...]  # normally exactly one
    start_ns: int
    end_ns: int
    bar_columns: int
    rows: tuple[Row, ...]
    spans_per_service: dict[str, int]
    unjoined_logs: tuple[dict, ...] = field(default=())  # lines of the request no span of the trace owns

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6

    @property
    def steps(self) -> int:
        return self.bar_columns * STEPS_PER_COLUMN

    def row(self, service: str, kind: str, name: str | None = None) -> Row:
        """The one row of this service and kind (and name): for tests and callers that know the shape."""
        found = [r for r in self.rows if r.span.service == service and r.span.kind == kind
                 and (name is None or r.span.name == name)]
        if len(found) != 1:
            raise LookupError(f"{len(found)} rows are {service} {kind} {name or ''}".rstrip())
        return found[0]


def error_mark(span: Span) -> ErrorMark | None:
    if span.status != "ERROR":
        return None
    exceptions = tuple(
        ": ".join(str(part) for part in (event.attributes.get("exception.type"),
                                          event.attributes.get("exception.message")) if part)
        for event in span.events_named("exception")
    )
    return ErrorMark(span.attributes.get("error.type"), exceptions)


def _bar(span: Span, start_ns: int, duration_ns: int, steps: int) -> tuple[int, int]:
    """Step k stands for the axis time [k, k+1) · duration/steps. Both ends round
    down, so a span that ends before another starts never shares a step with it."""
    def step(ns: int) -> int:
        return math.floor((ns - start_ns) * steps / duration_ns) if duration_ns else 0
    begin = min(steps - 1, step(span.start_ns))
    return begin, min(steps, max(begin + 1, step(span.end_ns)))


def _children(trace: Trace) -> tuple[list[Span], dict[str, list[Span]]]:
    known = {span.span_id for span in trace.spans}
    roots: list[Span] = []
    children: dict[str, list[Span]] = {}
    for span in trace.spans:
        if span.parent_span_id in known:
            children.setdefault(span.parent_span_id, []).append(span)
        else:
            roots.append(span)
    order = lambda s: (s.start_ns, -s.end_ns, s.span_id)  # noqa: E731 - parents before same-time children
    return sorted(roots, key=order), {parent: sorted(kids, key=order) for parent, kids in children.items()}


def build(trace: Trace, bar_columns: int, logs: list[dict] | None = None) -> Layout:
    """The waterfall of `trace` with bars `bar_columns` wide; `logs` (the request's
    log lines) are joined to their span by span_id."""
    if not trace.spans:
        raise ValueError(f"trace {trace.trace_id} has no spans")
    start_ns = min(span.start_ns for span in trace.spans)
    end_ns = max(span.end_ns for span in trace.spans)
    steps = max(1, bar_columns) * STEPS_PER_COLUMN
    span_ids = {span.span_id for span in trace.spans}
    logs_by_span: dict[str, list[dict]] = {}
    for line in logs or []:
        logs_by_span.setdefault(line.get("span_id") or "", []).append(line)

    roots, children = _children(trace)
    rows: list[Row] = []

    def visit(span: Span, depth: int, guides: str, own_guide: str) -> None:
        begin, end = _bar(span, start_ns, end_ns - start_ns, steps)
        rows.append(Row(span, depth, guides + own_guide, begin, end,
                        orphan=bool(span.parent_span_id) and depth == 0, error=error_mark(span),
                        logs=tuple(logs_by_span.get(span.span_id, ()))))
        kids = children.get(span.span_id, [])
        below = guides + ("" if depth == 0 else ("   " if own_guide.startswith("└") else "│  "))
        for index, kid in enumerate(kids):
            visit(kid, depth + 1, below, "└─ " if index == len(kids) - 1 else "├─ ")

    for root in roots:
        visit(root, 0, "", "")

    x_trace_ids = sorted({str(span.attributes[X_TRACE_ID_ATTRIBUTE]) for span in trace.spans
                          if span.attributes.get(X_TRACE_ID_ATTRIBUTE)})
    unjoined = tuple(line for span_id, lines in logs_by_span.items() if span_id not in span_ids for line in lines)
    return Layout(
        trace_id=trace.trace_id,
        x_trace_ids=tuple(x_trace_ids),
        start_ns=start_ns,
        end_ns=end_ns,
        bar_columns=max(1, bar_columns),
        rows=tuple(rows),
        spans_per_service=dict(sorted(Counter(span.service for span in trace.spans).items())),
        unjoined_logs=tuple(sorted(unjoined, key=lambda line: line.get("timestamp", ""))),
    )

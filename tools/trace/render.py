"""Draw a Layout with rich: a header, then one line per span (tree, HTTP
status, duration, bar on the common time axis), error details in red, and
optionally the span's log lines.

rich decides about colour: none when the output is not a terminal or NO_COLOR
is set. The width is the console's; print_trace(fit_labels=True) widens it so
that no label is cut (the command does so off a terminal, unless COLUMNS is set).
Everything colour says is also said in text (ERROR, ✗), so plain output loses nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from rich.bar import Bar
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from tests.stores.model import Trace

from .layout import Layout, Row, build

SERVICE_COLOURS = ("cyan", "green", "magenta", "blue", "yellow")  # red is kept for errors
ERROR_STYLE = "bold red"
STATUS_WIDTH = 4
DURATION_WIDTH = 9
FIXED_COLUMNS = STATUS_WIDTH + DURATION_WIDTH + 3  # and the three gaps between the four columns
MIN_LABEL_COLUMNS = 16
MIN_BAR_COLUMNS = 12
PIPED_BAR_COLUMNS = 40


@dataclass(frozen=True)
class Verdict:
    """What the wait for a complete trace concluded, for the header."""
    complete: bool
    text: str


def _service_styles(layout: Layout) -> dict[str, str]:
    return {service: SERVICE_COLOURS[index % len(SERVICE_COLOURS)]
            for index, service in enumerate(layout.spans_per_service)}


def label(row: Row, styles: dict[str, str] | None = None) -> Text:
    styles = styles or {}
    span = row.span
    text = Text(row.guides, style="dim")
    if row.error:
        text.append("✗ ", style=ERROR_STYLE)
    if row.orphan:
        text.append("(parent missing) ", style="yellow")
    text.append(span.service, style=f"bold {styles.get(span.service, '')}".strip())
    # Lower case sets a service's own INTERNAL spans apart from the hops between services.
    text.append(f" {span.kind.lower() if span.kind == 'INTERNAL' else span.kind} ", style="dim")
    text.append(span.name, style=ERROR_STYLE if row.error else "")
    return text


def _detail_indent(row: Row) -> str:
    return " " * (len(row.guides) + 3)


def _header(layout: Layout, verdict: Verdict | None) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row("X-Trace-ID", ", ".join(layout.x_trace_ids) or "(no span carries app.x_trace_id)")
    grid.add_row("trace id", f"{layout.trace_id}  (W3C trace-id)")
    spans = sum(layout.spans_per_service.values())
    per_service = ", ".join(f"{service} {count}" for service, count in layout.spans_per_service.items())
    grid.add_row("duration", f"{layout.duration_ms:.1f} ms, {spans} spans ({per_service})")
    if verdict is not None:
        grid.add_row("complete", Text(verdict.text, style="" if verdict.complete else "bold yellow"))
    return grid


def _line(cells: list[RenderableType], label_width: int, bar_columns: int) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=label_width, no_wrap=True, overflow="ellipsis")
    grid.add_column(width=STATUS_WIDTH, justify="right", no_wrap=True)
    grid.add_column(width=DURATION_WIDTH, justify="right", no_wrap=True)
    grid.add_column(width=bar_columns, no_wrap=True)
    grid.add_row(*cells)
    return grid


def _axis(layout: Layout) -> Text:
    end = f"{layout.duration_ms:.1f} ms"
    text = Text("0 ms", style="dim")
    text.append(end.rjust(max(0, layout.bar_columns - len("0 ms"))), style="dim")
    return text


def _detail(prefix: str, text: Text) -> Table:
    """A line under a span: `prefix`, then `text`, wrapped with a hanging indent."""
    grid = Table.grid()
    grid.add_column(width=len(prefix), no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(Text(prefix, style="dim"), text)
    return grid


def clock(timestamp: str) -> str:
    """The time of day of an RFC 3339 UTC timestamp, to the millisecond when it has them (nginx's has not)."""
    return re.sub(r"(Z|[+-]00:00)$", "", timestamp[11:])[:12]


LOG_IDS = ("trace_id", "span_id", "x_trace_id")


def log_text(line: dict, stamp: Callable[[str], str] = clock, hidden: tuple[str, ...] = LOG_IDS) -> Text:
    """One log line: when (`stamp` of its timestamp), process, level, message, then its other fields but `hidden`."""
    text = Text(f"{stamp(line.get('timestamp', '')):<12} {line.get('service', ''):<9} {line.get('level', ''):<5} ",
                style="dim")
    text.append(str(line.get("message", "")))
    extra = {k: v for k, v in line.items() if k not in ("timestamp", "level", "service", "message", *hidden)}
    if extra:
        text.append(" " + " ".join(f"{k}={v}" for k, v in extra.items()), style="dim")
    return text


def _label_columns(trace: Trace) -> int:
    return max(MIN_LABEL_COLUMNS, *(label(row).cell_len for row in build(trace, 1).rows))


def layout_for(trace: Trace, width: int, logs: list[dict] | None = None) -> tuple[Layout, int]:
    """The layout for a `width`-column screen and the width of its label column."""
    # The bars keep at least 2/5 of what the fixed columns leave.
    label_width = min(_label_columns(trace), max(MIN_LABEL_COLUMNS, (width - FIXED_COLUMNS) * 3 // 5))
    bar_columns = max(MIN_BAR_COLUMNS, width - FIXED_COLUMNS - label_width)
    return build(trace, bar_columns, logs), label_width


def renderable(layout: Layout, label_width: int, verdict: Verdict | None = None) -> Group:
    styles = _service_styles(layout)
    parts: list[RenderableType] = [_header(layout, verdict), Text()]
    parts.append(_line([Text("span", style="bold"), Text("HTTP", style="bold"), Text("ms", style="bold"),
                        _axis(layout)], label_width, layout.bar_columns))
    for row in layout.rows:
        colour = "red" if row.error else styles.get(row.span.service, "default")
        bar = Bar(layout.steps, row.begin, row.end, width=layout.bar_columns, color=colour)
        status = row.http_status if row.http_status is not None else "-"
        parts.append(_line([label(row, styles), Text(str(status), style=ERROR_STYLE if row.error else ""),
                            f"{row.duration_ms:.1f}", bar], label_width, layout.bar_columns))
        if row.error:
            parts.append(_detail(_detail_indent(row), Text(f"ERROR {row.error.text()}", style="red")))
        parts.extend(_detail(_detail_indent(row) + "│ ", log_text(line)) for line in row.logs)
    if layout.unjoined_logs:
        parts.append(Text("\nlog lines of this request that no span of the trace owns:", style="bold"))
        parts.extend(_detail("  ", log_text(line)) for line in layout.unjoined_logs)
    return Group(*parts)


def print_trace(console: Console, trace: Trace, verdict: Verdict | None = None,
                logs: list[dict] | None = None, fit_labels: bool = False) -> Layout:
    """fit_labels: widen the console so that no label is cut, with bars of PIPED_BAR_COLUMNS
    (output to a pipe or a file)."""
    if fit_labels:
        console.width = _label_columns(trace) + FIXED_COLUMNS + PIPED_BAR_COLUMNS
    layout, label_width = layout_for(trace, console.width, logs)
    console.print(renderable(layout, label_width, verdict))
    return layout


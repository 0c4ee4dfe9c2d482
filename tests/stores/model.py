"""The store-independent trace model the tests assert on.

Jaeger and Tempo both answer in OTLP JSON, but with different encodings (ids
in hex or base64, enums as numbers or names, numbers as strings). Every store
client turns its answer into these plain values, so a test never knows which
store it talks to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Index = the OTLP enum number, value = the short name used everywhere in tests.
SPAN_KINDS = ("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")
STATUS_CODES = ("UNSET", "OK", "ERROR")


@dataclass(frozen=True)
class Event:
    name: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Span:
    trace_id: str  # 32 lowercase hex
    span_id: str  # 16 lowercase hex
    parent_span_id: str  # 16 lowercase hex, "" for a span without parent
    service: str  # resource attribute service.name
    name: str
    kind: str  # one of SPAN_KINDS
    start_ns: int
    end_ns: int
    status: str  # one of STATUS_CODES
    attributes: dict[str, Any] = field(default_factory=dict)
    events: tuple[Event, ...] = ()
    trace_state: str = ""

    def events_named(self, name: str) -> list[Event]:
        return [event for event in self.events if event.name == name]

    def label(self) -> str:
        """Short description for assertion messages."""
        return f"{self.service} {self.kind} {self.name!r} ({self.span_id})"


@dataclass(frozen=True)
class Trace:
    trace_id: str
    spans: tuple[Span, ...]

    def span(self, span_id: str) -> Span | None:
        return next((span for span in self.spans if span.span_id == span_id), None)

    def of_kind(self, *kinds: str) -> list[Span]:
        return [span for span in self.spans if span.kind in kinds]

    def summary(self) -> str:
        return f"trace {self.trace_id}: " + ", ".join(sorted(span.label() for span in self.spans))

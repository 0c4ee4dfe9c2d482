"""W3C Trace Context extraction that refuses conflicting `traceparent` values.

The standard propagator reads only the first `traceparent` value it is given.
HTTP servers hand a WSGI app duplicate header lines joined into one string
(gunicorn with ",", Werkzeug with ", "), which the standard propagator then
fails to parse, so even two *identical* lines would start a new trace. And
where a server keeps the lines apart, "take the first" silently picks one of
two different parents.

W3C Trace Context treats two different `traceparent` values as invalid input:
the request must start a new trace. Identical duplicates are one value. This
module applies exactly that rule and hands the one surviving value (plus the
`tracestate` lines combined in order) to the standard propagator, so parsing
and validation stay the SDK's.

`conflicting_traceparents` is also what the request middleware calls to notice
a rejection, so both places apply the same rule.
"""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry.context import Context
from opentelemetry.propagators.textmap import (
    CarrierT,
    Getter,
    Setter,
    TextMapPropagator,
    default_getter,
    default_setter,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"


def split_header_values(lines: Iterable[str] | None) -> list[str]:
    """Every comma-separated member of every header line, trimmed, empties dropped."""
    return [member.strip() for line in lines or () for member in line.split(",") if member.strip()]


def distinct_traceparents(lines: Iterable[str] | None) -> list[str]:
    """The distinct `traceparent` values in the order they arrived."""
    return list(dict.fromkeys(split_header_values(lines)))


def conflicting_traceparents(lines: Iterable[str] | None) -> list[str]:
    """The values that were rejected because they disagree; empty if none were."""
    values = distinct_traceparents(lines)
    return values if len(values) > 1 else []


class StrictTraceContextPropagator(TextMapPropagator):
    """TraceContext propagator that extracts nothing from conflicting `traceparent` values."""

    def __init__(self) -> None:
        self._w3c = TraceContextTextMapPropagator()

    def extract(
        self,
        carrier: CarrierT,
        context: Context | None = None,
        getter: Getter[CarrierT] = default_getter,
    ) -> Context:
        traceparents = distinct_traceparents(getter.get(carrier, TRACEPARENT))
        if len(traceparents) != 1:
            # None, or several that disagree: there is no parent to continue.
            return context if context is not None else Context()
        single = {TRACEPARENT: traceparents[0]}
        tracestate = split_header_values(getter.get(carrier, TRACESTATE))
        if tracestate:
            single[TRACESTATE] = ",".join(tracestate)
        return self._w3c.extract(single, context, default_getter)

    def inject(
        self,
        carrier: CarrierT,
        context: Context | None = None,
        setter: Setter[CarrierT] = default_setter,
    ) -> None:
        self._w3c.inject(carrier, context, setter)

    @property
    def fields(self) -> set[str]:
        return self._w3c.fields

"""W3C Trace Context extraction that refuses conflicting `traceparent` values.

The standard propagator reads only the first `traceparent` value it is given.
HTTP servers hand a WSGI app duplicate header lines joined into one string
(gunicorn with ",", Werkzeug with ", "), which the standard propagator then
fails to parse, so even two *identical* lines would start a new trace. And
where a server keeps the lines apart, "take the first" silently picks one of
two different parents.

W3C Trace Context treats two different `traceparent` values as invalid input:
the request must start a new trace. Identical duplicates are one value. This
module applies exactly that rule and hands the one surviving value to the
standard propagator, so parsing the `traceparent` stays the SDK's.

`tracestate` follows docs/contract.md ("tracestate"): the lines are combined
in order, empty members ignored, and the combined list is validated as a
whole here; if any rule fails the whole `tracestate` is dropped (never
repaired) while the `traceparent` is still continued. A key seen again is a
duplicate: its first member is kept. The SDK's own parser still knows only
the key grammar Trace Context had before "@" became an ordinary key
character, so it refuses lists the spec accepts ("foo@=1"); such a list is
kept in the context and passed on unchanged by `inject`.

The trace flags of the parent, the Level 2 random flag (0x02) included, are
the SDK's to carry: a child span keeps the parent's random flag.

`conflicting_traceparents` is also what the request middleware calls to notice
a rejection, so both places apply the same rule.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator

from opentelemetry import trace
from opentelemetry.context import Context, create_key, get_value, set_value
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

# docs/contract.md, "tracestate (W3C Trace Context Level 2)".
MAX_TRACESTATE_MEMBERS = 32
# The spec's current key grammar: a lowercase letter or digit, then up to 255 of a-z 0-9 _ - * / @.
_TRACESTATE_KEY = re.compile(r"[a-z0-9][a-z0-9_\-*/@]{0,255}")
# 1 to 256 characters of 0x20-0x7E except "," and "=", the last one not a space.
_TRACESTATE_VALUE = re.compile(r"[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]")


def split_header_values(lines: Iterable[str] | None) -> list[str]:
    """Every comma-separated member of every header line, trimmed, empties dropped."""
    return list(header_members(lines))


def header_members(lines: Iterable[str] | None) -> Iterator[str]:
    """split_header_values one member at a time, so a reader can stop at a bound:
    gunicorn lets 100 lines of 16 KiB through, ~800k members, and a list of
    them all took 26 MiB per request."""
    for line in lines or ():
        for match in _LIST_MEMBER.finditer(line):
            if member := match.group().strip():
                yield member


_LIST_MEMBER = re.compile(r"[^,]+")


_INCOMING_TRACESTATE = create_key("app.incoming-tracestate")


def usable_tracestate(members: Iterable[str]) -> list[str] | None:
    """The combined `tracestate` list (empty members already dropped) to pass
    on: without repeated keys, or None when any rule fails. Reads at most one
    member past the limit."""
    members = list(itertools.islice(members, MAX_TRACESTATE_MEMBERS + 1))
    if len(members) > MAX_TRACESTATE_MEMBERS:
        return None
    kept: dict[str, str] = {}
    for member in members:
        key, equals, value = member.partition("=")
        if not equals or not _TRACESTATE_KEY.fullmatch(key) or not _TRACESTATE_VALUE.fullmatch(value):
            return None
        kept.setdefault(key, member)
    return list(kept.values())


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
        tracestate = ",".join(usable_tracestate(header_members(getter.get(carrier, TRACESTATE))) or [])
        if tracestate:
            single[TRACESTATE] = tracestate
        extracted = self._w3c.extract(single, context, default_getter)
        remote = trace.get_current_span(extracted).get_span_context()
        if tracestate and remote.is_valid and not remote.trace_state:
            extracted = set_value(_INCOMING_TRACESTATE, (remote.trace_id, tracestate), extracted)
        return extracted

    def inject(
        self,
        carrier: CarrierT,
        context: Context | None = None,
        setter: Setter[CarrierT] = default_setter,
    ) -> None:
        self._w3c.inject(carrier, context, setter)
        # The incoming list the SDK could not hold, on calls within the same trace.
        incoming = get_value(_INCOMING_TRACESTATE, context)
        current = trace.get_current_span(context).get_span_context()
        if incoming and current.is_valid and current.trace_id == incoming[0] and not current.trace_state:
            setter.set(carrier, TRACESTATE, incoming[1])

    @property
    def fields(self) -> set[str]:
        return self._w3c.fields

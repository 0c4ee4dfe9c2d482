"""Span strings that UTF-8 can encode, whatever a request put in them.

Why: a Python str can hold lone surrogates, and UTF-8 cannot encode them.
JSON decodes the escape "\\ud800" to one, and surrogateescape (os.environ,
file names) turns each byte it could not decode into one. The OTLP exporter
then fails to encode the whole batch ("surrogates not allowed"), or drops the
attribute with an error line. ValidUtf8SpanExporter replaces each with
U+FFFD in every string the encoder reads. WSGI hands paths and headers over
as latin1 text, which always encodes (User-Agent bytes ff fe become "ÿþ").
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Link, Status
from opentelemetry.util.types import AnyValue, Attributes

# The only code points a str can hold that UTF-8 cannot encode.
_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_utf8(text: str) -> str:
    return _SURROGATE.sub("\ufffd", text)


class ValidUtf8SpanExporter(SpanExporter):
    """Hands `exporter` every span with encodable strings. It goes in front of
    the retrying exporter, so each batch is checked once, not per attempt."""

    def __init__(self, exporter: SpanExporter) -> None:
        self._exporter = exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._exporter.export([valid_utf8_span(span) for span in spans])

    def shutdown(self) -> None:
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._exporter.force_flush(timeout_millis)


def valid_utf8_span(span: ReadableSpan) -> ReadableSpan:
    """`span` itself when all its strings encode, else a copy with each surrogate replaced.

    A copy does not carry the dropped-attribute counts over.
    """
    if not any(_SURROGATE.search(text) for text in _strings(span)):
        return span
    return ReadableSpan(
        name=valid_utf8(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_valid_attributes(span.attributes),
        events=[Event(valid_utf8(event.name), _valid_attributes(event.attributes), event.timestamp)
                for event in span.events],
        links=[Link(link.context, _valid_attributes(link.attributes)) for link in span.links],
        kind=span.kind,
        status=Status(span.status.status_code, valid_utf8(span.status.description or "") or None),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _strings(span: ReadableSpan) -> Iterator[str]:
    yield span.name
    yield span.status.description or ""
    yield from _attribute_strings(span.attributes)
    for event in span.events:
        yield event.name
        yield from _attribute_strings(event.attributes)
    for link in span.links:
        yield from _attribute_strings(link.attributes)


def _attribute_strings(value: Attributes | AnyValue) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            yield key
            yield from _attribute_strings(inner)
    elif isinstance(value, Sequence) and not isinstance(value, bytes):
        for inner in value:
            yield from _attribute_strings(inner)


def _valid_attributes(attributes: Attributes) -> dict[str, AnyValue]:
    return {valid_utf8(key): _valid_value(value) for key, value in (attributes or {}).items()}


def _valid_value(value: AnyValue) -> AnyValue:
    if isinstance(value, str):
        return valid_utf8(value)
    if isinstance(value, Mapping):
        return _valid_attributes(value)
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        return tuple(_valid_value(inner) for inner in value)
    return value

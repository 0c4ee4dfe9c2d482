"""Credentials in query strings never reach an exported span (docs/contract.md, "Secrets never stored").

The value of every query parameter whose name (any case) is in
CREDENTIAL_PARAMETERS becomes `REDACTED`. The rest of the query is kept byte
for byte, so a redacted URL still shows which parameters were sent.

`RedactingSpanProcessor` wraps the processor that exports (telemetry.py) and
hands it a redacted copy of every finished span. Redacting at the end, in one
place, is what covers everything:
- `url.query`, `url.full`, `http.target`, `http.url` of server (Flask/WSGI)
  and client (requests) spans. The Flask instrumentation writes its server
  span's attributes a second time after the span started (after its own
  request hook too), so a span-start hook would be undone;
- free text that quotes a URL: a failed call's `exception` event carries
  urllib3's message, "Max retries exceeded with url: /path?token=...", in
  `exception.message` and `exception.stacktrace`, and so does the span's
  status description.
The Collector's `transform/redact` processor is the safety net behind it.
Request headers are never captured by any instrumentation here, so
`Authorization`, `Cookie` and friends cannot reach a span.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

from opentelemetry.context import Context
from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import Status
from opentelemetry.util.types import Attributes, AttributeValue

REDACTED = "REDACTED"

CREDENTIAL_PARAMETERS = frozenset({
    "token", "access_token", "refresh_token", "id_token", "password", "passwd", "pwd", "secret",
    "client_secret", "api_key", "apikey", "key", "sig", "signature", "auth", "credential", "session",
})

# A bare query string; every other string attribute may quote a URL or target.
QUERY_ATTRIBUTES = frozenset({"url.query"})
# A query inside free text: from "?" to the next white space, quote or bracket.
_QUERY_IN_TEXT = re.compile(r"\?([^\s'\"()<>#]+)")


def redact_query(query: str) -> str:
    """`query` (without "?") with every credential parameter's value replaced."""
    fields = query.split("&")
    for index, field in enumerate(fields):
        name = field.partition("=")[0]
        # Compared as the application reads the name: "%74oken" is "token".
        if unquote_plus(name).lower() in CREDENTIAL_PARAMETERS:
            fields[index] = f"{name}={REDACTED}"
    return "&".join(fields)


def redact_text(text: str) -> str:
    """A URL, request target or message with the credentials of every query string in it replaced."""
    if "?" not in text:
        return text
    return _QUERY_IN_TEXT.sub(lambda match: "?" + redact_query(match.group(1)), text)


def redact_attributes(attributes: Attributes) -> dict[str, AttributeValue]:
    return {key: _redact_value(key, value) for key, value in (attributes or {}).items()}


class RedactingSpanProcessor(SpanProcessor):
    """Passes spans on to `export` with their attributes and event attributes redacted."""

    def __init__(self, export: SpanProcessor) -> None:
        self._export = export

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self._export.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        self._export.on_end(redacted_copy(span))

    def shutdown(self) -> None:
        self._export.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._export.force_flush(timeout_millis)


def redacted_copy(span: ReadableSpan) -> ReadableSpan:
    """The same span with redacted attribute values and status description.

    The dropped-attribute counts are not carried over.
    """
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=redact_attributes(span.attributes),
        events=[Event(event.name, redact_attributes(event.attributes), event.timestamp) for event in span.events],
        links=span.links,
        kind=span.kind,
        status=Status(span.status.status_code, redact_text(span.status.description or "") or None),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _redact_value(key: str, value: AttributeValue) -> AttributeValue:
    if not isinstance(value, str):
        return value
    return redact_query(value) if key in QUERY_ATTRIBUTES else redact_text(value)


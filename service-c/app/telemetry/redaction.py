"""Credentials in query strings never reach an exported span (docs/contract.md, "Secrets never stored").

The contract's one rule, as in the other services and the Collector: a
parameter starts the text or follows `?`, `&`, `;` or `#`; its name, read as a
form decoder reads it, cut at brackets and trimmed, is a credential when a part
equals a name of CREDENTIAL_PARAMETERS (ASCII, any case); its value, up to the
next `&` or white space, becomes `REDACTED`. Everything else stays byte for
byte, so a redacted URL still shows which parameters were sent.

`RedactingSpanProcessor` wraps the processor that exports (tracing.py) and
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

# The contract's list (observability/credential-redaction.json; tests/test_redaction.py compares).
CREDENTIAL_PARAMETERS = frozenset({
    "token", "access_token", "refresh_token", "id_token", "password", "passwd", "pwd", "secret",
    "client_secret", "api_key", "apikey", "key", "auth", "credential", "session", "sig", "signature",
    "awsaccesskeyid", "x-amz-credential", "x-amz-security-token", "x-amz-signature",
    "googleaccessid", "x-goog-credential", "x-goog-signature",
})

_WHITE_SPACE = "\t\n\f\r "  # ASCII white space as WHATWG counts it
_NAME = re.compile(f"[^=&;#?{_WHITE_SPACE}]*")
_VALUE = re.compile(f"[^&{_WHITE_SPACE}]*")
_PARAMETER_START = re.compile(r"[?&;#]")
_BRACKET = re.compile(r"[\[\]]")


def is_credential(raw_name: str) -> bool:
    """Whether a parameter name, as written in a query, names a credential."""
    # unquote_plus decodes like a form decoder: "+" is a space, invalid escapes stay, bad UTF-8 becomes U+FFFD.
    parts = (part.strip(_WHITE_SPACE) for part in _BRACKET.split(unquote_plus(raw_name)))
    # ASCII only: str.lower() would turn a Kelvin sign into "k".
    return any(part.isascii() and part.lower() in CREDENTIAL_PARAMETERS for part in parts)


def redact(text: str) -> str:
    """`text` (a query, a URL, a message quoting one) with every credential's value replaced."""
    pieces, copied, start = [], 0, 0
    while True:
        name_end = _NAME.match(text, start).end()
        resume = name_end
        if text.startswith("=", name_end) and is_credential(text[start:name_end]):
            resume = _VALUE.match(text, name_end + 1).end()
            pieces += [text[copied:name_end + 1], REDACTED]
            copied = resume
        following = _PARAMETER_START.search(text, resume)
        if following is None:
            return "".join(pieces) + text[copied:]
        start = following.end()


def redact_attributes(attributes: Attributes) -> dict[str, AttributeValue]:
    return {key: _redact_value(value) for key, value in (attributes or {}).items()}


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
        status=Status(span.status.status_code, redact(span.status.description or "") or None),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _redact_value(value: AttributeValue) -> AttributeValue:
    return redact(value) if isinstance(value, str) else value


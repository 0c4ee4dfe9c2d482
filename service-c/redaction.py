"""Credentials in query strings never reach a span (docs/contract.md, "Secrets never stored").

The value of every query parameter whose name (any case) is in
CREDENTIAL_PARAMETERS becomes `REDACTED` in the URL attributes of service-c's
spans. The rest of the query is kept byte for byte, so a redacted URL still
shows which parameters were sent.

Where it is applied (telemetry.py wires both):
- `RedactUrlAttributes`, a span processor: on_start rewrites the URL
  attributes every instrumentation passes when it starts a span, which is
  where the requests instrumentation writes `url.full` of CLIENT spans.
- `redact_span_urls`, the Flask instrumentation's response hook: that
  instrumentation writes the server span's attributes a second time *after*
  the span started (after its own request hook, too), so the server span is
  redacted again when the response starts, before the span ends.
The Collector's `transform/redact` processor is the safety net behind both.

Request headers are never captured by any instrumentation here, so
`Authorization`, `Cookie` and friends cannot reach a span.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import Span as ApiSpan

REDACTED = "REDACTED"

CREDENTIAL_PARAMETERS = frozenset({
    "token", "access_token", "refresh_token", "id_token", "password", "passwd", "pwd", "secret",
    "client_secret", "api_key", "apikey", "key", "sig", "signature", "auth", "credential", "session",
})

# Attributes that hold a whole URL, a request target (path?query) or a bare query.
URL_ATTRIBUTES = ("url.full", "http.url", "http.target", "url.original")
QUERY_ATTRIBUTES = ("url.query",)


def redact_query(query: str) -> str:
    """`query` (without "?") with every credential parameter's value replaced."""
    fields = query.split("&")
    for index, field in enumerate(fields):
        name, equals, _value = field.partition("=")
        if unquote_plus(name).lower() in CREDENTIAL_PARAMETERS:
            fields[index] = f"{name}={REDACTED}"
    return "&".join(fields)


def redact_url(url: str) -> str:
    """A URL or request target with the credentials of its query string replaced."""
    before_fragment, hash_sign, fragment = url.partition("#")
    base, question_mark, query = before_fragment.partition("?")
    if not question_mark:
        return url
    return f"{base}?{redact_query(query)}{hash_sign}{fragment}"


def redact_span_urls(span: ApiSpan, *_hook_args: object) -> None:
    """Rewrite the URL attributes of a recording span (usable as an instrumentation hook)."""
    attributes = getattr(span, "attributes", None)
    if not span.is_recording() or not attributes:
        return
    for key in URL_ATTRIBUTES + QUERY_ATTRIBUTES:
        value = attributes.get(key)
        if isinstance(value, str):
            redacted = redact_query(value) if key in QUERY_ATTRIBUTES else redact_url(value)
            if redacted != value:
                span.set_attribute(key, redacted)


class RedactUrlAttributes(SpanProcessor):
    """Redacts the URL attributes a span starts with."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        redact_span_urls(span)

    def on_end(self, span: ReadableSpan) -> None:
        pass

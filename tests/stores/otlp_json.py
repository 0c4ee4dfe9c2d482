"""Turn OTLP JSON (`resourceSpans`) into the normalized model.

The OTLP JSON mapping says ids are hex and enums are numbers; Tempo's
trace-by-id answer instead carries base64 ids and enum names. Enum forms are
unambiguous, so both are accepted here; the id encoding is not (16 hex
characters are also valid base64), so each client says which one it gets.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Callable, Iterable

from .model import SPAN_KINDS, STATUS_CODES, Event, Span

IdDecoder = Callable[[str], str]


def hex_id(value: str | None) -> str:
    return (value or "").lower()


def base64_id(value: str | None) -> str:
    if not value:
        return ""
    try:
        return base64.b64decode(value, validate=True).hex()
    except binascii.Error as error:
        raise ValueError(f"not a base64 id: {value!r}") from error


def _enum(value: Any, names: tuple[str, ...], prefix: str) -> str:
    if value is None:
        return names[0]
    if isinstance(value, int):
        return names[value]
    name = str(value).removeprefix(prefix)
    if name not in names:
        raise ValueError(f"unknown enum value {value!r}")
    return name


def span_kind(value: Any) -> str:
    return _enum(value, SPAN_KINDS, "SPAN_KIND_")


def status_code(status: dict | None) -> str:
    return _enum((status or {}).get("code"), STATUS_CODES, "STATUS_CODE_")


def any_value(value: dict) -> Any:
    """An OTLP AnyValue as a plain Python value (int64 travels as a string in JSON)."""
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        return [any_value(item) for item in value["arrayValue"].get("values", [])]
    if "kvlistValue" in value:
        return attributes(value["kvlistValue"].get("values", []))
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def attributes(key_values: Iterable[dict] | None) -> dict[str, Any]:
    return {kv["key"]: any_value(kv.get("value", {})) for kv in key_values or []}


def spans_from_resource_spans(resource_spans: Iterable[dict], decode_id: IdDecoder) -> list[Span]:
    spans = []
    for resource_span in resource_spans or []:
        resource = attributes((resource_span.get("resource") or {}).get("attributes"))
        service = resource.get("service.name", "")
        for scope_span in resource_span.get("scopeSpans") or []:
            for raw in scope_span.get("spans") or []:
                spans.append(_span(raw, service, decode_id))
    return spans


def _span(raw: dict, service: str, decode_id: IdDecoder) -> Span:
    return Span(
        trace_id=decode_id(raw.get("traceId")),
        span_id=decode_id(raw.get("spanId")),
        parent_span_id=decode_id(raw.get("parentSpanId")),
        service=service,
        name=raw.get("name", ""),
        kind=span_kind(raw.get("kind")),
        start_ns=int(raw.get("startTimeUnixNano", 0)),
        end_ns=int(raw.get("endTimeUnixNano", 0)),
        status=status_code(raw.get("status")),
        attributes=attributes(raw.get("attributes")),
        events=tuple(
            Event(event.get("name", ""), attributes(event.get("attributes"))) for event in raw.get("events") or []
        ),
        trace_state=raw.get("traceState", ""),
    )

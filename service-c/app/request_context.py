"""Per-request rules every endpoint shares, as Flask before/after/teardown hooks.

Registered after the Flask instrumentation's own hooks (see create_app), so
the server span already exists and is current when these run:

- X-Trace-ID: keep a valid one, mint one otherwise; on the span
  (`app.x_trace_id`), in every log line, in the response header and body.
- Conflicting `traceparent` values: the strict propagator already refused
  them; here the refusal becomes visible (one WARN line with the count; the
  count and the first few values, cut short, on the span).
- The input rules of docs/contract.md, in its order and before any work:
  version and method (app/protocol_rules.py), method and path (routing, see
  app/strict_routing.py), then X-Hop-Count (400 when malformed, 508 above
  MAX_HOPS).
- One `request completed` line per request, written while the span is current.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from datetime import UTC, datetime

from flask import Flask, Response, g, request
from opentelemetry import trace

from app.config import current_settings
from app.downstream import Hop
from app.errors import InvalidHopCount, LoopDetected
from app.protocol_rules import enforce_protocol
from app.logging_config import bind_x_trace_id, unbind_x_trace_id
from app.telemetry.strict_propagation import TRACEPARENT, conflicting_traceparents

X_TRACE_ID = "X-Trace-ID"
X_HOP_COUNT = "X-Hop-Count"

_X_TRACE_ID_FORMAT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
# One header line of 1 to 3 ASCII digits. The HTTP server has already removed
# the optional white space around the field value; two lines arrive joined
# with a comma (gunicorn ",", Werkzeug ", ") and so fail the pattern too.
_HOP_COUNT_FORMAT = re.compile(r"[0-9]{1,3}")

# Rejected traceparent values are attacker-controlled: the span keeps the count,
# and only the first few values, each cut short.
MAX_REJECTED_EVENTS = 8
MAX_REJECTED_VALUE_CHARS = 256

# Polled by compose, Kubernetes and the readiness probe every few seconds: a
# line for each passing check would drown the real traffic.
HEALTH_ROUTE = "/health"

_log = logging.getLogger("service_c.request")


def init_app(app: Flask) -> None:
    app.before_request(_begin_request)
    app.after_request(_finish_response)
    app.teardown_request(_end_request)


def accept_or_mint_x_trace_id(value: str | None) -> str:
    if value is not None and _X_TRACE_ID_FORMAT.fullmatch(value):
        return value
    return mint_x_trace_id()


def mint_x_trace_id() -> str:
    """Same format as the gateway: trace-<UTC YYYYMMDDTHHMMSSZ>-<8 hex>."""
    return f"trace-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def parse_hop_count(value: str | None) -> int:
    if value is None:
        return 0
    if not _HOP_COUNT_FORMAT.fullmatch(value):
        raise InvalidHopCount(f"{X_HOP_COUNT} must be one header line of 1 to 3 digits")
    return int(value)


def current_hop() -> Hop:
    """What outbound calls of this request carry: its X-Trace-ID and hop count."""
    return Hop(x_trace_id=g.x_trace_id, incoming_hop_count=g.hop_count)


def _begin_request() -> None:
    g.started = time.perf_counter()
    g.x_trace_id = accept_or_mint_x_trace_id(request.headers.get(X_TRACE_ID))
    g.log_binding = bind_x_trace_id(g.x_trace_id)

    span = trace.get_current_span()
    span.set_attribute("app.x_trace_id", g.x_trace_id)
    _report_rejected_traceparents(span)

    # Version and method come first, then the path: Flask would raise the
    # routing error only after every before_request hook, i.e. after the
    # X-Hop-Count check.
    enforce_protocol(request.environ)
    if request.routing_exception is not None:
        raise request.routing_exception

    g.hop_count = parse_hop_count(request.headers.get(X_HOP_COUNT))
    span.set_attribute("app.hop_count", g.hop_count)
    max_hops = current_settings().max_hops
    if g.hop_count > max_hops:
        raise LoopDetected(f"{X_HOP_COUNT} {g.hop_count} exceeds the limit of {max_hops}")


def _report_rejected_traceparents(span: trace.Span) -> None:
    rejected = conflicting_traceparents(request.headers.getlist(TRACEPARENT))
    if not rejected:
        return
    span.set_attribute("app.traceparent.rejected_count", len(rejected))
    for value in rejected[:MAX_REJECTED_EVENTS]:
        span.add_event("app.traceparent.rejected", {"app.traceparent.value": value[:MAX_REJECTED_VALUE_CHARS]})
    # The values are on the span already; the log line says only how many.
    _log.warning("rejected conflicting traceparent headers",
                 extra={"header": TRACEPARENT, "rejected_count": len(rejected)})


def _finish_response(response: Response) -> Response:
    x_trace_id = g.get("x_trace_id")
    if x_trace_id:
        response.headers[X_TRACE_ID] = x_trace_id
    _log_request_line(response.status_code)
    return response


def _log_request_line(status: int) -> None:
    started = g.get("started")
    duration_ms = round((time.perf_counter() - started) * 1000, 3) if started is not None else 0.0
    level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
    route = request.url_rule.rule if request.url_rule is not None else request.path
    if route == HEALTH_ROUTE and status < 400:
        return  # docs/contract.md: health checks that pass are never logged
    _log.log(level, "request completed",
             extra={"method": request.method, "route": route, "status": status, "duration_ms": duration_ms})


def _end_request(_error: BaseException | None) -> None:
    binding = g.pop("log_binding", None)
    if binding is not None:
        unbind_x_trace_id(binding)

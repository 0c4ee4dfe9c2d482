"""Compare a stored trace with a scenario's expected tree (scenarios/scenarios.json).

The expected tree lists SERVER and CLIENT spans ("hops") only. INTERNAL spans
are transparent: a hop's parent is its nearest non-INTERNAL ancestor, so a
service may wrap its work in internal spans without changing the shape.
Children are matched order-insensitively; per hop the comparison covers
service, kind, route, HTTP status, error, exception event (server hops), the
client's target (`to`) and the timing of a hop's client children.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from tests.stores.model import Span, Trace

HOP_KINDS = ("SERVER", "CLIENT")
STATUS_ATTRIBUTE = "http.response.status_code"
ROUTE_ATTRIBUTE = "http.route"


@dataclass
class Hop:
    span: Span
    children: list["Hop"] = field(default_factory=list)


def effective_parent(span: Span, spans_by_id: dict[str, Span]) -> str:
    """Id of the nearest SERVER/CLIENT ancestor present in the trace, or ""."""
    parent = spans_by_id.get(span.parent_span_id)
    while parent is not None and parent.kind not in HOP_KINDS:
        parent = spans_by_id.get(parent.parent_span_id)
    return parent.span_id if parent is not None else ""


def dangling_parents(trace: Trace) -> list[Span]:
    """Spans whose parent has not (yet) reached the store."""
    known = {span.span_id for span in trace.spans}
    return [span for span in trace.spans if span.parent_span_id and span.parent_span_id not in known]


def hop_roots(trace: Trace) -> list[Hop]:
    spans_by_id = {span.span_id: span for span in trace.spans}
    hops = {span.span_id: Hop(span) for span in trace.of_kind(*HOP_KINDS)}
    roots = []
    for hop in sorted(hops.values(), key=lambda h: h.span.start_ns):
        parent_id = effective_parent(hop.span, spans_by_id)
        (hops[parent_id].children if parent_id else roots).append(hop)
    return roots


def client_timing(hop: Hop) -> str | None:
    """"ordered" when each client child starts after the previous one ended,
    "overlap" when all of them were in flight at one moment, else "mixed"."""
    clients = sorted((child.span for child in hop.children if child.span.kind == "CLIENT"), key=lambda s: s.start_ns)
    if len(clients) < 2:
        return None
    if all(later.start_ns >= earlier.end_ns for earlier, later in zip(clients, clients[1:])):
        return "ordered"
    if max(s.start_ns for s in clients) < min(s.end_ns for s in clients):
        return "overlap"
    return "mixed"


def client_target(hop: Hop) -> str | None:
    """The called service for a hop into the stack, else what the client span says it called."""
    servers = [child.span.service for child in hop.children if child.span.kind == "SERVER"]
    if len(servers) == 1:
        return servers[0]
    if servers:
        return "+".join(sorted(servers))
    attrs = hop.span.attributes
    if "db.system.name" in attrs:
        return attrs["db.system.name"]
    return "external" if "server.address" in attrs else None


def describe(hop: Hop) -> dict:
    """The hop in the expected tree's vocabulary."""
    span = hop.span
    shape = {
        "service": span.service,
        "kind": span.kind,
        "status": span.attributes.get(STATUS_ATTRIBUTE),
        "error": span.status == "ERROR",
    }
    if span.kind == "SERVER":
        shape["route"] = span.attributes.get(ROUTE_ATTRIBUTE)
        shape["exception"] = bool(span.events_named("exception"))
    else:
        shape["to"] = client_target(hop)
        shape["server.address"] = span.attributes.get("server.address")
    timing = client_timing(hop)
    if timing:
        shape["timing"] = timing
    return shape


def label(node: dict) -> str:
    if node["kind"] == "SERVER":
        return f"{node['service']} SERVER {node.get('route')}"
    return f"{node['service']} CLIENT -> {node.get('to')}"


COMPARED_FIELDS = {
    "SERVER": ("service", "kind", "route", "status", "error", "exception", "timing"),
    "CLIENT": ("service", "kind", "to", "status", "error", "timing"),
}


def differences(expected: dict, hop: Hop, external_host: str, where: str = "") -> list[str]:
    """Every way the hop (and its subtree) differs from the expected node."""
    actual = describe(hop)
    where = f"{where} > {label(expected)}" if where else label(expected)
    problems = [
        f"{where}: {name} is {actual.get(name)!r}, expected {expected.get(name)!r}"
        for name in COMPARED_FIELDS.get(expected["kind"], ())
        if name in expected and actual.get(name) != expected.get(name)
    ]
    if expected.get("to") == "external" and actual.get("server.address") != external_host:
        problems.append(f"{where}: server.address is {actual.get('server.address')!r}, expected {external_host!r}")
    expected_children = expected.get("children", [])
    if len(expected_children) != len(hop.children):
        found = [label(describe(child)) for child in hop.children]
        problems.append(f"{where}: {len(hop.children)} child hop(s) {found}, expected {len(expected_children)}")
        return problems
    # Children are unordered: keep the pairing that explains the most.
    best: list[str] | None = None
    for ordering in itertools.permutations(hop.children):
        found = [p for node, child in zip(expected_children, ordering)
                 for p in differences(node, child, external_host, where)]
        if best is None or len(found) < len(best):
            best = found
        if not best:
            break
    return problems + (best or [])


def tree_differences(expected_root: dict, trace: Trace, external_host: str) -> list[str]:
    roots = hop_roots(trace)
    if len(roots) != 1:
        return [f"expected one root hop, found {len(roots)}: {[label(describe(r)) for r in roots]}"]
    return differences(expected_root, roots[0], external_host)


def render(hop: Hop, indent: str = "") -> str:
    """The actual tree as text, for failure messages."""
    lines = [indent + " ".join(f"{k}={v}" for k, v in describe(hop).items())]
    for child in hop.children:
        lines.append(render(child, indent + "  "))
    return "\n".join(lines)

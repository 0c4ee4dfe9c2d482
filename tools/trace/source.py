"""Where a trace comes from: which store, which trace id, and when it is complete.

Completeness is the e2e suite's rule (tests/support/store_waits.complete): the
scenario's number of SERVER/CLIENT spans and no span whose parent is missing.
When the caller does not name the scenario, the trace's root hop (service,
route, HTTP status) says which scenarios it can be; a trace that is no demo
scenario is complete once no span misses its parent, which is all a store can tell.
"""

from __future__ import annotations

import calendar
import time
from typing import Callable

from tests.stores import TraceStore, make_store
from tests.stores.model import Trace
from tests.support.ids import KEPT_X_TRACE_ID, MINTED_X_TRACE_ID, OTEL_TRACE_ID
from tests.support.polling import NotYet
from tests.support.store_waits import complete
from tests.support.trace_tree import dangling_parents, describe, hop_roots, tree_differences
from tools.demo import local_url, reachable
from tools.scenario_table import hop_count

SEARCH_LOOKBACK_S = 3600  # how far back to search for an X-Trace-ID without a timestamp in it
MINTED_MARGIN_S = 60  # the minted timestamp has whole seconds, and clocks differ a little


class UsageError(ValueError):
    """Input the command cannot work with; the message says why."""


def store_urls(env: dict[str, str]) -> dict[str, str]:
    return {"jaeger": local_url(env, "JAEGER_QUERY_PORT"), "tempo": local_url(env, "TEMPO_PORT")}


def choose_store(kind: str, url: str | None, env: dict[str, str]) -> TraceStore:
    """`auto` is Jaeger when its query API answers (native mode), else Tempo (compose),
    the same choice tools/demo.py makes for its links."""
    urls = store_urls(env)
    if kind == "auto":
        kind = "jaeger" if reachable(f"{url or urls['jaeger']}/api/v3/services") else "tempo"
    return make_store(kind, url or urls[kind])


def search_since(x_trace_id: str, now: float) -> float:
    """A minted X-Trace-ID says when the request came in; otherwise look back an hour."""
    minted = MINTED_X_TRACE_ID.match(x_trace_id)
    if minted:
        return calendar.timegm(time.strptime(minted.group(1), "%Y%m%dT%H%M%SZ")) - MINTED_MARGIN_S
    return now - SEARCH_LOOKBACK_S


def kind_of_id(wanted: str) -> str:
    """"otel" for a W3C trace id, "x" for an X-Trace-ID; UsageError for anything else."""
    if OTEL_TRACE_ID.match(wanted):
        if wanted == "0" * 32:
            raise UsageError("00000000000000000000000000000000 is the invalid trace id of W3C Trace Context")
        return "otel"
    if KEPT_X_TRACE_ID.match(wanted):
        return "x"
    raise UsageError(f"{wanted[:80]!r} is neither a trace id (32 lowercase hex digits) nor an X-Trace-ID "
                     "(a letter or digit, then up to 63 of letters, digits and . _ : -)")


def candidates(trace: Trace, scenarios: list[dict]) -> list[dict]:
    """The scenarios whose root hop is this trace's root hop."""
    roots = hop_roots(trace)
    if len(roots) != 1:
        return []
    root = describe(roots[0])
    return [s for s in scenarios if (s["tree"]["service"], s["tree"].get("route"), s["tree"].get("status"))
            == (root["service"], root.get("route"), root.get("status"))]


def completeness(scenario: dict | None, scenarios: list[dict], external_host: str) -> Callable[[Trace], object]:
    """A readiness check for wait_for_trace: a sentence saying why the trace is
    complete, or a NotYet saying what is missing."""
    def by_scenario(trace: Trace, chosen: dict) -> object:
        verdict = complete(hop_count(chosen["tree"]))(trace)
        if verdict is True:
            return (f"yes: {len(trace.of_kind('SERVER', 'CLIENT'))} SERVER/CLIENT spans as scenario "
                    f"{chosen['name']!r} has, no span misses its parent")
        return verdict

    def ready(trace: Trace) -> object:
        if scenario is not None:
            return by_scenario(trace, scenario)
        dangling = dangling_parents(trace)
        if dangling:
            return NotYet(f"{len(dangling)} span(s) with a parent not in the store; {trace.summary()}")
        possible = candidates(trace, scenarios)
        if len(possible) == 1:
            return by_scenario(trace, possible[0])
        if possible:
            exact = [s for s in possible if not tree_differences(s["tree"], trace, external_host)]
            if exact:
                return by_scenario(trace, exact[0])
            return NotYet(f"matches none of the scenarios {[s['name'] for s in possible]} yet; {trace.summary()}")
        return "as far as the store can tell: no span misses its parent (no demo scenario says how many to expect)"

    return ready

"""What the tests need from a trace store, whichever one it is."""

from __future__ import annotations

from typing import Protocol

import requests

from .model import Trace

# The span attribute every service sets to the request's X-Trace-ID.
X_TRACE_ID_ATTRIBUTE = "app.x_trace_id"


class StoreError(RuntimeError):
    """The store answered in a way no client can interpret (not a missing trace)."""


class TraceStore(Protocol):
    base_url: str

    def get_trace(self, otel_trace_id: str) -> Trace | None:
        """The trace with this 32-hex id, or None while the store does not know it."""

    def raw_trace(self, otel_trace_id: str) -> str:
        """The store's own answer for this trace, as text: everything it kept
        (attributes, events, resource), for checks that must see all of it."""

    def find_traces_by_x_trace_id(self, x_trace_id: str, since: float) -> list[str]:
        """32-hex ids of traces with a span whose app.x_trace_id is x_trace_id,
        started at or after `since` (seconds since the epoch)."""

    def trace_link(self, otel_trace_id: str) -> str:
        """Where a person would look at this trace (for assertion messages)."""


def full_trace_id(search_id: str) -> str:
    """Search APIs print ids as numbers, dropping leading zeros; put them back."""
    return search_id.lower().zfill(32)


class HttpStoreClient:
    """The HTTP plumbing both store clients share: one session, one timeout,
    and a 200-or-StoreError rule for answers that must be JSON."""

    store_name = "the trace store"

    def __init__(self, base_url: str, session: requests.Session | None = None, timeout: float = 5.0):
        self.base_url = base_url.rstrip("/")
        self._session = session or requests.Session()
        self._timeout = timeout

    def _get(self, path: str, params: dict[str, str] | None = None) -> requests.Response:
        return self._session.get(self.base_url + path, params=params, timeout=self._timeout)

    def _json(self, response: requests.Response) -> dict:
        if response.status_code != 200:
            raise StoreError(
                f"{self.store_name} answered {response.status_code} to {response.url}: {response.text[:500]}"
            )
        return response.json()

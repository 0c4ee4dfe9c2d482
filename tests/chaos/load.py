"""Steady load with known ids, and the count of complete traces it left behind.

Shared by the chaos suite (tests/chaos) and benchmarks/chaos_figures.py.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

from tests.stores import TraceStore
from tests.support.polling import NotYet, PollTimeout, poll_until
from tests.support.trace_tree import dangling_parents, tree_differences

REQUEST_TIMEOUT_S = 15.0
LOOPBACK_PREFIXES = ("http://127.0.0.1:", "http://localhost:")


@dataclass
class Sent:
    x_trace_id: str
    started: float  # monotonic
    sent_at: float = 0.0  # epoch seconds, for store searches
    finished: float = 0.0
    status: int | None = None  # None: no answer (refused, reset, timed out)
    otel_trace_id: str = ""
    error: str = ""

    def in_flight_at(self, moment: float) -> bool:
        return self.started <= moment < self.finished


class Load:
    """`rate` requests per second of one path through the gateway, each with its
    own X-Trace-ID (`<prefix>-<n>`), from start() until stop(), never more than
    `limit` requests: a forgotten load cannot run away."""

    def __init__(self, gateway_url: str, path: str, prefix: str, *, rate: float = 20.0, limit: int = 4000,
                 workers: int = 16):
        if not gateway_url.startswith(LOOPBACK_PREFIXES):
            raise ValueError(f"load goes to loopback only, not {gateway_url}")
        self.url = gateway_url + path
        self.prefix, self.rate, self.limit = prefix, rate, limit
        self.sent: list[Sent] = []
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"load-{prefix}")
        self._pacer = threading.Thread(target=self._pace, name=f"pacer-{prefix}", daemon=True)
        self._local = threading.local()

    def __enter__(self) -> "Load":
        self._pacer.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    def stop(self) -> list[Sent]:
        """Stop sending and wait for every request's answer (each has a timeout)."""
        self._stop.set()
        self._pacer.join()
        self._pool.shutdown(wait=True)
        return self.sent

    @property
    def running(self) -> bool:
        return self._pacer.is_alive()

    def answered(self, since: float = 0.0) -> int:
        return sum(1 for s in list(self.sent) if s.status is not None and s.finished >= since)

    def wait_answered(self, count: int, since: float, timeout: float = 60.0) -> None:
        poll_until(lambda: self.answered(since) >= count or NotYet(f"{self.answered(since)} answered"),
                   timeout=timeout, interval=0.1, describe=f"{count} answers to the load")

    def stop_after(self, more: int) -> None:
        """Send `more` requests, then stop sending on its own (see `running`)."""
        self.limit = min(self.limit, len(self.sent) + more)

    def _pace(self) -> None:
        began = time.monotonic()
        number = 0
        while number < self.limit:
            # The schedule, not a wait for a state: request n leaves at began + n/rate.
            if self._stop.wait(max(0.0, began + number / self.rate - time.monotonic())):
                return
            record = Sent(f"{self.prefix}-{number:05d}", time.monotonic(), time.time())
            self.sent.append(record)
            self._pool.submit(self._send, record)
            number += 1

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
            self._local.session.trust_env = False  # no proxy from the environment
        return self._local.session

    def _send(self, record: Sent) -> None:
        try:
            response = self._session().get(self.url, headers={"X-Trace-ID": record.x_trace_id},
                                           timeout=REQUEST_TIMEOUT_S)
            record.status = response.status_code
            try:
                body = response.json()
            except ValueError:
                body = {}
            record.otel_trace_id = body.get("otel_trace_id", "") if isinstance(body, dict) else ""
        except requests.RequestException as error:
            record.error = type(error).__name__
        finally:
            record.finished = time.monotonic()


def incomplete_reason(store: TraceStore, record: Sent, tree: dict) -> str:
    """"" when the store holds the trace exactly as the scenario's tree says."""
    trace = store.get_trace(record.otel_trace_id)
    if trace is None:
        return "no span in the store"
    dangling = dangling_parents(trace)
    if dangling:
        return f"parents missing for {[s.label() for s in dangling]}"
    problems = tree_differences(tree, trace, external_host="127.0.0.1")
    return "; ".join(problems)


@dataclass
class Count:
    complete: list[Sent]
    missing: dict[str, str]  # X-Trace-ID -> why its trace is not complete
    seconds: float  # until every trace was complete, or until the deadline


def count_complete(store: TraceStore, records: list[Sent], tree: dict, timeout: float) -> Count:
    """Poll the store until every record's trace is complete or `timeout` passes."""
    began = time.monotonic()
    pending = {r.x_trace_id: r for r in records}
    reasons: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=8) as pool:
        def check():
            verdicts = dict(zip(pending, pool.map(lambda r: incomplete_reason(store, r, tree), pending.values())))
            for x_trace_id, reason in verdicts.items():
                if reason:
                    reasons[x_trace_id] = reason
                else:
                    reasons.pop(x_trace_id, None)
                    del pending[x_trace_id]
            return not pending or NotYet(f"{len(pending)} of {len(records)} incomplete, e.g. "
                                         f"{next(iter(reasons.items()))}")
        try:
            poll_until(check, timeout=timeout, interval=1.0, describe="every trace of the load complete")
        except PollTimeout:
            pass  # the caller reports which ones are missing
    complete = [r for r in records if r.x_trace_id not in pending]
    return Count(complete, {x: reasons[x] for x in pending}, time.monotonic() - began)

"""Stand-in for benchmarks/saturation.py (being written on another branch):
the saturation throughput of /api/demo/parallel through the gateway.

benchmarks/report.py imports only `saturation_rps` from here; when the real
module lands, that one import changes and this file goes.

Closed loop: `concurrency` clients each send the next request as soon as the
previous one is answered, for `seconds`; the figure is the number of 200
answers per second. On a machine shared with the load generator (as here) it
is the saturation of stack and client together.
"""

from __future__ import annotations

import threading
import time

import requests

PATH = "/api/demo/parallel"
REQUEST_TIMEOUT_S = 15.0


def saturation_rps(gateway_url: str, seconds: float = 15.0, concurrency: int = 32) -> float:
    """200 answers per second of /api/demo/parallel, closed loop, `concurrency` (32) requests always in flight."""
    url = gateway_url.rstrip("/") + PATH
    deadline = time.monotonic() + seconds
    ok = [0] * concurrency

    def client(slot: int) -> None:
        with requests.Session() as session:
            session.trust_env = False  # loopback only, no proxy from the environment
            while time.monotonic() < deadline:
                try:
                    if session.get(url, timeout=REQUEST_TIMEOUT_S).status_code == 200:
                        ok[slot] += 1
                except requests.RequestException:
                    pass  # not counted: only answered requests are throughput

    began = time.monotonic()
    threads = [threading.Thread(target=client, args=(slot,), daemon=True) for slot in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + REQUEST_TIMEOUT_S + 5)
    return sum(ok) / (time.monotonic() - began)

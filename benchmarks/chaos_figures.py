"""Benchmark: traces kept through each fault of the chaos suite.

Prints figures; asserts nothing. Run after a build (`make build`), with the
tooling virtualenv (it reuses the chaos suite's load and trace-tree counting):

    .venv/bin/python benchmarks/chaos_figures.py [FAULT ...]

It starts the native stack, and for each fault (all of tests/chaos/faults.py
by default, in that order) drives /api/demo/parallel at 20 req/s through the
gateway with known X-Trace-IDs, injects the fault, and counts complete traces
in the trace store afterwards. Per fault it prints: requests sent, answered
200, complete traces, missing traces, the measured length of the fault, and
the recovery time (from the fault's end until the last trace was complete;
nan when some never were), then the first few missing ids with the reason.
The stack is always stopped again, also on Ctrl-C. Traffic goes to loopback
only; every load is bounded by count and time.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.chaos.faults import FAULTS, Chaos  # noqa: E402
from tests.chaos.stacks import NativeChaosStack  # noqa: E402
from tests.stores import make_store  # noqa: E402
from tools.native.stack import NativeStack  # noqa: E402

SHOWN_MISSING = 5


def _interrupt(signum, _frame):
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("faults", nargs="*", metavar="FAULT",
                        help=f"one or more of: {', '.join(FAULTS)} (default: all)")
    names = parser.parse_args().faults or list(FAULTS)
    unknown = [name for name in names if name not in FAULTS]
    if unknown:
        parser.error(f"unknown fault(s) {', '.join(unknown)}; choose from {', '.join(FAULTS)}")
    signal.signal(signal.SIGTERM, _interrupt)
    native = NativeStack.from_repo()
    began = time.monotonic()
    try:
        native.start()
        chaos = Chaos(NativeChaosStack(native), make_store("jaeger", native.store_url))
        for name in names:
            figures = FAULTS[name](chaos)
            print(figures.line(), flush=True)
            for x_trace_id, why in sorted(figures.missing.items())[:SHOWN_MISSING]:
                print(f"    missing {x_trace_id}: {why[:200]}")
            for note in figures.notes:
                print(f"    note: {note[:300]}")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        codes = native.stop()
        print(f"stack stopped: {codes}; whole run {time.monotonic() - began:.0f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

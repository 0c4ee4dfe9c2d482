"""Show one request: its trace drawn in the terminal (span tree, HTTP status,
errors, a time bar per span on one axis) from Jaeger (native) or Tempo
(compose), or with --logs-only just its log lines from every native process.

    python3 -m tools.trace [--logs | --logs-only] [--store auto|jaeger|tempo] [--store-url URL] <otel trace id | X-Trace-ID>

It waits (up to --timeout seconds) for the trace to be complete, as the e2e
suite defines complete, and says so when it is not. Colour only on a terminal
and without NO_COLOR; the width is the terminal's, or off a terminal COLUMNS
or else what the span labels need.

Exit status: 0 complete trace (or some log line) shown, 1 trace incomplete or
not found (no log line), 2 bad usage or the store does not answer.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from tools.run_tests import VENV_PYTHON

try:
    import requests
    from rich.console import Console
except ImportError:  # started with the system Python: the tooling virtualenv has what it needs
    if VENV_PYTHON.exists() and Path(sys.prefix).resolve() != VENV_PYTHON.parents[1].resolve():
        os.execv(VENV_PYTHON, [str(VENV_PYTHON), "-m", "tools.trace", *sys.argv[1:]])
    sys.exit("tools.trace needs `rich` and `requests`: run `make up` or `make test` once (they create .venv), "
             "or `pip install -r requirements-dev.txt`")

from tests.stores.base import X_TRACE_ID_ATTRIBUTE, StoreError  # noqa: E402
from tests.support.logs import matching_lines  # noqa: E402
from tests.support.polling import PollTimeout  # noqa: E402
from tests.support.store_waits import wait_for_search, wait_for_trace  # noqa: E402
from tools.native.settings import LOGS, read_dotenv  # noqa: E402
from tools.scenario_table import load_scenarios, select  # noqa: E402

from .render import Verdict, log_text, print_trace  # noqa: E402
from .source import UsageError, choose_store, completeness, kind_of_id, search_since  # noqa: E402

DEFAULT_TIMEOUT_S = 30.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python3 -m tools.trace", description=__doc__.split("\n\n")[0])
    parser.add_argument("id", metavar="ID", help="OpenTelemetry trace id (32 hex) or X-Trace-ID")
    logs = parser.add_mutually_exclusive_group()
    logs.add_argument("--logs", action="store_true", help="each span's log lines beneath it (native log files)")
    logs.add_argument("--logs-only", action="store_true",
                      help="no trace: every process's log lines with this id, in time order (no store needed)")
    parser.add_argument("--store", choices=["auto", "jaeger", "tempo"], default=os.environ.get("TRACE_STORE", "auto"),
                        help="trace store (env TRACE_STORE); auto: Jaeger when it answers, else Tempo")
    parser.add_argument("--store-url", default=os.environ.get("TRACE_STORE_URL"),
                        help="store base URL (env TRACE_STORE_URL; default from .env)")
    parser.add_argument("--scenario", help="the demo scenario the request ran, for the completeness rule "
                                           "(default: recognised from the trace's root span)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S,
                        help=f"seconds to wait for a complete trace (default {DEFAULT_TIMEOUT_S:g})")
    parser.add_argument("--log-dir", type=Path, default=LOGS, help=f"native log files (default {LOGS})")
    parser.add_argument("--external-host", default="127.0.0.1",
                        help="host of service-c's external dependency, to recognise that scenario")
    return parser.parse_args(argv)


def fail(message: str, status: int) -> int:
    print(f"tools.trace: {message}", file=sys.stderr)
    return status


def show_logs(console: Console, wanted: str, log_dir: Path) -> int:
    lines = matching_lines((wanted,), log_dir)
    for line in lines:  # one line each, whole dates and ids: for grep as much as for reading
        console.print(log_text(line, stamp=str, hidden=()), soft_wrap=True)
    return 0 if lines else fail(f"no log line under {log_dir} has trace_id or x_trace_id {wanted!r}", 1)


def show_trace(console: Console, store, trace_id: str, args, scenario: dict | None) -> int:
    ready = completeness(scenario, load_scenarios(), args.external_host)
    try:
        trace = wait_for_trace(store, trace_id, ready, timeout=args.timeout, describe=f"the complete trace {trace_id}")
    except PollTimeout:
        trace = store.get_trace(trace_id)
        if trace is None:
            return fail(f"{store.base_url} does not know trace {trace_id} (waited {args.timeout:g} s)", 1)
    found = ready(trace)
    # A NotYet's reason ends with the whole trace's summary (for test failures); the drawing shows it better.
    verdict = Verdict(True, str(found)) if found else Verdict(
        False, f"NO, after {args.timeout:g} s: {repr(found).split('; trace ')[0]}")
    logs = None
    if args.logs:
        # The gateway has no spans: its lines carry only the X-Trace-ID.
        logs = matching_lines((trace_id, *{str(s.attributes[X_TRACE_ID_ATTRIBUTE]) for s in trace.spans
                                           if s.attributes.get(X_TRACE_ID_ATTRIBUTE)}), args.log_dir)
        if not logs:
            console.print(f"(no log line under {args.log_dir} carries this trace's ids)")
    # Piped or redirected with no COLUMNS: as wide as the labels need, never cut at 80.
    print_trace(console, trace, verdict, logs, fit_labels=not console.is_terminal and "COLUMNS" not in os.environ)
    return 0 if verdict.complete else 1


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    console = Console()
    try:
        kind = kind_of_id(args.id)
        scenario = select(load_scenarios(), [args.scenario])[0] if args.scenario else None
    except (UsageError, KeyError) as error:
        return fail(error.args[0], 2)
    if args.logs_only:
        return show_logs(console, args.id, args.log_dir)
    store = choose_store(args.store, args.store_url and args.store_url.rstrip("/"), read_dotenv())
    try:
        if kind == "otel":
            trace_ids = [args.id]
        else:
            trace_ids = wait_for_search(store, args.id, search_since(args.id, time.time()), timeout=args.timeout)
        status = 0
        for index, trace_id in enumerate(trace_ids):
            if index:
                console.print()
            status = max(status, show_trace(console, store, trace_id, args, scenario))
        return status
    except PollTimeout:
        return fail(f"{store.base_url} finds no trace with X-Trace-ID {args.id!r} (searched for {args.timeout:g} s)", 1)
    except (requests.ConnectionError, requests.Timeout) as error:
        return fail(f"the trace store does not answer at {store.base_url} ({type(error).__name__}). "
                    "Start the stack (`make up`, or `docker compose up`) or point --store-url at it.", 2)
    except StoreError as error:
        return fail(str(error), 2)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

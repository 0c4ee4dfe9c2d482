"""`make load`: Locust, headless, against the native stack's gateway.

    python -m load [--rate 10] [--users 10] [--duration 60s] [--host URL]
                   [--passes N] [--record FILE]

Runs load/locustfile.py for DURATION (or until --passes are sent) and ends
with Locust's tables, then the load generator's own summary: rate, failed %
and p50/p95/p99 per scenario. Exits 1 when any request did not end with its
scenario's designed status. The stack must be running (`make up`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tools.native.settings import LOOPBACK, read_dotenv  # noqa: E402

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
# Users finishing their request when the run ends: the slowest scenario
# answers in about 2 s, and a request gives up after 15 s (locustfile.py).
STOP_TIMEOUT_S = 20


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=10.0, help="total requests per second (default 10)")
    parser.add_argument("--users", type=int, default=10,
                        help="simulated users: the most requests in flight at once (default 10)")
    parser.add_argument("--duration", default="60s", help="how long to run: 30s, 10m, 1h30m (default 60s)")
    parser.add_argument("--host", help="gateway base URL (default: the native gateway, GATEWAY_PORT in .env)")
    parser.add_argument("--passes", type=int, default=0,
                        help="stop after this many passes through the scenario mix (0: only the duration)")
    parser.add_argument("--record", help="write one JSON line per request (scenario, X-Trace-ID, status, latency) here")
    args = parser.parse_args(argv)
    if not args.rate > 0 or args.users < 1 or args.passes < 0:
        parser.error("--rate must be above 0, --users at least 1, --passes 0 or more")
    return args


def locust_argv(args: argparse.Namespace, host: str) -> list[str]:
    argv = ["locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
            "--host", host, "--users", str(args.users),
            # Users start within the first second; the pacer spaces their requests.
            "--spawn-rate", str(args.users),
            "--run-time", args.duration, "--stop-timeout", str(STOP_TIMEOUT_S),
            "--rate", str(args.rate), "--passes", str(args.passes)]
    if args.record:
        argv += ["--record", args.record]
    return argv


def gateway_problem(host: str) -> str | None:
    """Why the gateway cannot take load, or None: a run against a stack that
    is not up would only count connection errors."""
    import urllib.error  # here, after Locust has patched the standard library (ssl among it)
    import urllib.request

    try:
        with urllib.request.urlopen(f"{host.rstrip('/')}/health", timeout=5):
            return None
    except (urllib.error.URLError, OSError) as error:
        return f"the gateway at {host} does not answer /health ({error}): start the stack first (make up)"


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    host = args.host or f"http://{LOOPBACK}:{read_dotenv()['GATEWAY_PORT']}"
    # Locust patches the standard library when imported (gevent): before
    # anything else of it is used.
    from locust.main import main as locust_main

    problem = gateway_problem(host)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    sys.argv = locust_argv(args, host)
    return locust_main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""python3 -m tools.native {up,build,status,stop,start,restart}"""

import argparse
import sys

from .build import build_stack
from .stack import START_ORDER, main_up

CONTROL_COMMANDS = ("status", "stop", "start", "restart")


def control(command: str, component: str | None) -> int:
    from . import control as client  # the runner's socket client

    try:
        answer = client.send(command, component)
    except client.ControlError as error:
        print(f"[native] {error}", file=sys.stderr)
        return 1
    for name, state in answer.get("status", {}).items():
        print(f"  {name:<10} {state}")
    if not answer["ok"]:
        print(f"[native] {command} {component or ''}: {answer['error']}", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tools.native", description=__doc__)
    parser.add_argument("command", choices=["up", "build", *CONTROL_COMMANDS],
                        help="up: build if needed, start everything, stop on Ctrl-C; build: only build; "
                             "status/stop/start/restart: act on one part of the stack `up` runs")
    # The running stack checks the name: with --sampling-tier it also has
    # collector-sampler-1 and collector-sampler-2 (`collector` is then the router).
    parser.add_argument("component", nargs="?", metavar="NAME",
                        help=f"for stop, start, restart: the part to act on ({', '.join(START_ORDER)}, "
                             "and with the sampling tier collector-sampler-1, collector-sampler-2)")
    parser.add_argument("--sampling-tier", action="store_true",
                        help="up: run the Collector as in production, a routing Collector in front of two "
                             "sampling Collectors (README, Sampling)")
    args = parser.parse_args()
    if args.command in ("stop", "start", "restart") and args.component is None:
        parser.error(f"{args.command} needs a component: one of {', '.join(START_ORDER)}")
    if args.command == "build":
        build_stack()
        return 0
    if args.command in CONTROL_COMMANDS:
        return control(args.command, args.component)
    return main_up(sampling_tier=args.sampling_tier)


if __name__ == "__main__":
    sys.exit(main())

"""python3 -m tools.native {up,build}"""

import argparse
import sys

from .build import build_all
from .stack import main_up


def main() -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tools.native", description=__doc__)
    parser.add_argument("command", choices=["up", "build"],
                        help="up: build if needed, start everything, stop on Ctrl-C; build: only build")
    args = parser.parse_args()
    if args.command == "build":
        build_all()
        return 0
    return main_up()


if __name__ == "__main__":
    sys.exit(main())

"""Print every native log line of one request, from all processes, in time order.

    python3 tools/trace_logs.py <otel trace id | X-Trace-ID>

The native stack writes one JSON log file per process under .native/logs/.
This is the native counterpart of Grafana's "logs for this span" button: it
matches the argument against `trace_id` and `x_trace_id` of every line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.native.settings import LOGS  # noqa: E402

CONTRACT_LOGS = ("gateway", "service-a", "service-b", "service-c")


def matching_lines(wanted: str, folder: Path = LOGS) -> list[dict]:
    found = []
    for name in CONTRACT_LOGS:
        path = folder / f"{name}.log"
        if not path.exists():
            continue
        for raw in path.read_text(errors="replace").splitlines():
            try:
                line = json.loads(raw)
            except json.JSONDecodeError:
                continue
            if wanted in (line.get("trace_id"), line.get("x_trace_id")):
                found.append(line)
    return sorted(found, key=lambda line: line.get("timestamp", ""))


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    lines = matching_lines(sys.argv[1])
    if not lines:
        print(f"no log line under {LOGS} has trace_id or x_trace_id {sys.argv[1]!r}", file=sys.stderr)
        return 1
    for line in lines:
        print(f"{line.get('timestamp', ''):<32} {line.get('service', ''):<10} {line.get('level', ''):<5} "
              f"{line.get('message', '')}  {json.dumps({k: v for k, v in line.items() if k not in ('timestamp', 'service', 'level', 'message')})}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# Run the demo scenarios against a running stack (make up, or docker compose up)
# and print, per scenario, the HTTP status, latency, X-Trace-ID, OpenTelemetry
# trace id, whether it behaved as designed, and a link to its trace.
#
#   ./test-demo.sh                      every scenario in scenarios/scenarios.json
#   ./test-demo.sh parallel sequential  only the named ones
#   ./test-demo.sh --json               one JSON object per scenario per line
#   ./test-demo.sh --tree parallel      also draw each trace: span tree, errors, time bars
#   ./test-demo.sh --help               all options (gateway URL, link mode)
#
# The work is done by tools/demo.py (Python standard library only).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "${PYTHON:-python3}" "${repo_root}/tools/demo.py" "$@"

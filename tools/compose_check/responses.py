"""Verdicts on the answers of Loki, Prometheus, Tempo and Grafana, each in the
format its HTTP API documents. Pure functions: unit-tested on fixtures."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    ok: bool
    detail: str
    ran: bool = True  # False: the check could not run here (detail says why); never counted as passed

    def __bool__(self) -> bool:
        return self.ok and self.ran


def not_run(why: str) -> Verdict:
    return Verdict(False, why, ran=False)


def loki_lines_per_service(answer: dict, trace_id: str) -> Counter:
    """Lines per `service` stream label in a /loki/api/v1/query_range answer
    (resultType streams), counting only lines whose JSON trace_id is trace_id."""
    if answer.get("status") != "success" or answer["data"]["resultType"] != "streams":
        raise ValueError(f"not a Loki streams answer: {str(answer)[:300]}")
    counts: Counter = Counter()
    for stream in answer["data"]["result"]:
        service = stream["stream"].get("service", "<no service label>")
        for _timestamp, line in stream["values"]:
            try:
                fields = json.loads(line)
            except ValueError:
                continue
            if isinstance(fields, dict) and fields.get("trace_id") == trace_id:
                counts[service] += 1
    return counts


def loki_has_every_process(answer: dict, trace_id: str, processes: set[str]) -> Verdict:
    counts = loki_lines_per_service(answer, trace_id)
    missing = sorted(processes - set(counts))
    if missing:
        return Verdict(False, f"no line with trace_id {trace_id} from {missing} (have {dict(counts)})")
    return Verdict(True, ", ".join(f"{name}: {counts[name]}" for name in sorted(processes)))


def prometheus_vector(answer: dict) -> list[dict]:
    """The samples of a /api/v1/query answer (resultType vector)."""
    if answer.get("status") != "success" or answer["data"]["resultType"] != "vector":
        raise ValueError(f"not a Prometheus vector answer: {str(answer)[:300]}")
    return answer["data"]["result"]


def service_graph_covers(answer: dict, services: set[str]) -> Verdict:
    """traces_service_graph_request_total series name every service as client or server."""
    edges = sorted({(s["metric"].get("client", ""), s["metric"].get("server", "")) for s in prometheus_vector(answer)})
    seen = {name for edge in edges for name in edge}
    missing = sorted(services - seen)
    shown = ", ".join(f"{client}->{server}" for client, server in edges) or "no series"
    return Verdict(not missing, f"edges: {shown}" + (f"; missing {missing}" if missing else ""))


def tempo_metrics_has_series(answer: dict) -> Verdict:
    """A Tempo /api/metrics/query_range answer: {"series": [{"labels", "samples"}], ...}."""
    series = [s for s in answer.get("series") or [] if s.get("samples")]
    if not series:
        return Verdict(False, f"no series with samples: {str(answer)[:300]}")
    return Verdict(True, f"{len(series)} series")


def datasource_health(status: int, answer: dict) -> Verdict:
    """GET /api/datasources/uid/<uid>/health: 200 {"status": "OK", "message"}; 400 {"status": "ERROR", ...}."""
    ok = status == 200 and answer.get("status") == "OK"
    return Verdict(ok, f"HTTP {status} {answer.get('status')}: {answer.get('message', '')}".strip())


def frames_have_data(answer: dict, ref_id: str) -> Verdict:
    """POST /api/ds/query: {"results": {refId: {"status", "frames": [{"schema", "data": {"values": [...]}}], "error"?}}}."""
    result = (answer.get("results") or {}).get(ref_id)
    if result is None:
        return Verdict(False, f"no result for refId {ref_id}: {str(answer)[:300]}")
    if result.get("error"):
        return Verdict(False, f"error: {result['error']}")
    rows = max((len(column) for frame in result.get("frames") or []
                for column in (frame.get("data") or {}).get("values") or []), default=0)
    return Verdict(rows > 0, f"{len(result.get('frames') or [])} frame(s), up to {rows} row(s)")


def grafana_error_lines(log: str) -> list[str]:
    """Grafana logs logfmt (`logger=... level=error msg=...`): its error lines."""
    return [line for line in log.splitlines() if re.search(r"(^|\s)level=error(\s|$)", line)]


def containers_healthy(states: list, events: list[str], ceiling_percent: float) -> Verdict:
    """Every container's memory peak (the kernel's high-water mark) stays under
    ceiling_percent of its limit, none restarted and none was OOM-killed.
    `states`: stack.ContainerState; `events`: OOM events, described."""
    if not states:
        return Verdict(False, "no container")
    problems = [f"{s.name} restarted {s.restarts}x" for s in states if s.restarts] + \
               [f"{s.name} OOM-killed" for s in states if s.oom_killed] + events
    unmeasured = [s.name for s in states if s.peak_bytes is None or not s.limit_bytes]
    if unmeasured:
        problems.append(f"no peak or limit for {unmeasured}")
    over = [s for s in states if s.peak_bytes and s.limit_bytes and s.peak_bytes > s.limit_bytes * ceiling_percent / 100]
    problems += [f"{s.name} peaked at {s.peak_bytes / 2**20:.0f} of {s.limit_bytes / 2**20:.0f} MiB" for s in over]
    shown = ", ".join(f"{s.name} {s.peak_bytes / 2**20:.0f}/{s.limit_bytes / 2**20:.0f}" for s in states
                      if s.peak_bytes and s.limit_bytes)
    return Verdict(not problems, ("; ".join(problems) + " | " if problems else "") + f"peak/limit MiB: {shown}")

"""Read the processes' JSON log files and check them against the one log schema."""

from __future__ import annotations

import json
from collections import Counter
from functools import lru_cache
from pathlib import Path

from jsonschema import Draft202012Validator

from tools.native.settings import LOGS
from tools.scenario_table import REPO

SCHEMA_FILE = REPO / "observability" / "log-schema.json"
CONTRACT_LOGS = ("gateway", "service-a", "service-b", "service-c")  # the processes the log schema binds


@lru_cache(maxsize=1)
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def line_problem(raw: str | bytes) -> str | None:
    """Why one raw line (as read from the file, or already decoded) is not a
    valid log line, or None when it is."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            return f"not UTF-8 ({error})"
    try:
        line = json.loads(raw)
    except ValueError as error:
        return f"not JSON ({error})"
    errors = sorted(validator().iter_errors(line), key=lambda e: list(e.path))
    if errors:
        return "; ".join(f"{'/'.join(map(str, e.path)) or '(line)'}: {e.message}" for e in errors)
    return None


def invalid_lines(path: Path, limit: int = 10) -> list[str]:
    """Up to `limit` descriptions of lines in `path` that break the schema."""
    if not path.exists():
        return []
    found = []
    # Split on \n only: a stray \r or U+2028 inside a line must stay visible
    # as part of it. Each line is decoded on its own, strictly: a byte that is
    # not UTF-8 breaks its line.
    for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
        if raw == b"":
            continue
        problem = line_problem(raw)
        if problem:
            found.append(f"{path.name}:{number}: {problem}: {raw[:300]!r}")
            if len(found) == limit:
                break
    return found


def json_lines(path: Path, offset: int = 0) -> list[dict]:
    """The JSON objects among the lines of `path` from byte `offset` on. Other
    lines are skipped here; invalid_lines is the check that reports them."""
    with path.open("rb") as log:
        log.seek(offset)
        text = log.read().decode("utf-8", errors="replace")
    found = []
    for raw in text.splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict):
            found.append(line)
    return found


def matching_lines(wanted: tuple[str, ...], folder: Path = LOGS) -> list[dict]:
    """The lines of the contract's processes whose trace_id or x_trace_id is one of
    `wanted`, in time order: the native counterpart of Grafana's "logs for this span"."""
    found = [line for name in CONTRACT_LOGS if (folder / f"{name}.log").exists()
             for line in json_lines(folder / f"{name}.log")
             if line.get("trace_id") in wanted or line.get("x_trace_id") in wanted]
    return sorted(found, key=lambda line: line.get("timestamp", ""))


def lines_per_process(log_dir: Path, otel_trace_id: str, x_trace_id: str) -> Counter:
    """How many lines each process wrote carrying both ids of one request."""
    return Counter(
        line.get("service")
        for line in matching_lines((otel_trace_id,), log_dir)
        if line.get("trace_id") == otel_trace_id and line.get("x_trace_id") == x_trace_id
    )

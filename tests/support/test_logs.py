"""The log-line check itself: valid lines pass, each kind of breakage is named."""

from __future__ import annotations

import json

import pytest

from tests.support.logs import invalid_lines, json_lines, line_problem, lines_per_process

VALID = {"timestamp": "2026-11-25T00:40:12.345Z", "level": "INFO", "service": "service-a", "message": "request completed",
         "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7",
         "x_trace_id": "trace-20261125T004012Z-1a2b3c4d", "method": "GET", "route": "/api/process", "status": 200,
         "duration_ms": 12.5}


@pytest.mark.parametrize("line", [
    VALID,
    VALID | {"trace_id": "", "span_id": "", "x_trace_id": ""},
    {k: v for k, v in VALID.items() if k not in ("method", "route", "status", "duration_ms")},
    VALID | {"timestamp": "2026-11-25T00:40:12+00:00", "extra": {"nested": True}},
], ids=["request-line", "outside-a-request", "plain-line", "offset-timestamp-extra-field"])
def test_valid_lines_pass(line):
    assert line_problem(json.dumps(line)) is None


@pytest.mark.parametrize("raw, problem", [
    ("panic: runtime error", "not JSON"),
    ('{"timestamp": "2026-11-25T00:40:12Z"', "not JSON"),
    (json.dumps({k: v for k, v in VALID.items() if k != "x_trace_id"}), "'x_trace_id' is a required property"),
    (json.dumps(VALID | {"level": "WARNING"}), "level"),
    (json.dumps(VALID | {"trace_id": "4BF92F3577B34DA6A3CE929D0E0E4736"}), "trace_id"),
    (json.dumps(VALID | {"x_trace_id": 'abc"def'}), "x_trace_id"),
    (json.dumps(VALID | {"timestamp": "2026-11-25 00:40:12"}), "timestamp"),
    (json.dumps({k: v for k, v in VALID.items() if k != "route"}), "'route' is a dependency of 'status'"),
    (json.dumps(VALID | {"service": "nginx"}), "service"),
])
def test_broken_lines_are_named(raw, problem):
    assert problem in (line_problem(raw) or "")


def test_invalid_lines_reports_file_and_line_number(tmp_path):
    log = tmp_path / "service-a.log"
    log.write_text(json.dumps(VALID) + "\n" + "Traceback (most recent call last):\n" + json.dumps(VALID) + "\n")
    [report] = invalid_lines(log)
    assert report.startswith("service-a.log:2: not JSON")


def test_a_line_split_by_a_raw_carriage_return_stays_one_broken_line(tmp_path):
    log = tmp_path / "gateway.log"
    log.write_bytes(json.dumps(VALID).encode()[:-1] + b',"x":"a\rb"}\n')
    assert invalid_lines(log) and len(invalid_lines(log)) == 1


def test_a_line_with_bytes_that_are_not_utf8_is_broken(tmp_path):
    """escape=json passes raw bytes >= 0x80 on: json.loads of the line's bytes refuses them."""
    log = tmp_path / "gateway.log"
    good = json.dumps(VALID).encode()
    log.write_bytes(good + b"\n" + good[:-1] + b',"route":"/a/\xff\xfe"}\n' + good + b"\n")
    [report] = invalid_lines(log)
    assert report.startswith("gateway.log:2: not UTF-8")


def test_lines_per_process_needs_both_ids(tmp_path):
    other = VALID | {"x_trace_id": "someone-else"}
    gateway = VALID | {"service": "gateway"}
    (tmp_path / "service-a.log").write_text("\n".join(json.dumps(x) for x in (VALID, VALID, other)) + "\n")
    (tmp_path / "gateway.log").write_text(json.dumps(gateway) + "\nnot json\n")
    counts = lines_per_process(tmp_path, VALID["trace_id"], VALID["x_trace_id"])
    assert counts == {"service-a": 2, "gateway": 1}


def test_json_lines_reads_from_an_offset_and_skips_other_lines(tmp_path):
    log = tmp_path / "service-a.log"
    first = json.dumps(VALID) + "\n"
    log.write_text(first + "not json\n" + json.dumps(VALID | {"level": "WARN"}) + "\n[1, 2]\n")
    assert [line["level"] for line in json_lines(log)] == ["INFO", "WARN"]
    assert [line["level"] for line in json_lines(log, offset=len(first))] == ["WARN"]

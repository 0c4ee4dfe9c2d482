"""The strict trace-context propagator, on its own and as the service's global propagator."""

from __future__ import annotations

import json
import tracemalloc

import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.wsgi import wsgi_getter
from opentelemetry.trace import format_span_id, format_trace_id

from app.request_context import MAX_REJECTED_EVENTS, MAX_REJECTED_VALUE_CHARS
from app.telemetry.strict_propagation import StrictTraceContextPropagator, conflicting_traceparents, split_header_values
from tests.span_queries import only_server_span, trace_hex

TRACE_1 = "0af7651916cd43dd8448eb211c80319c"
TRACE_2 = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_1 = f"00-{TRACE_1}-b7ad6b7169203331-01"
PARENT_2 = f"00-{TRACE_2}-00f067aa0ba902b7-01"


def extracted(carrier: dict) -> tuple[str, str, str] | None:
    """(trace id, parent span id, tracestate sent on) of what the propagator extracted, or None."""
    propagator = StrictTraceContextPropagator()
    context = propagator.extract(carrier)
    span_context = trace.get_current_span(context).get_span_context()
    if not span_context.is_valid:
        return None
    outgoing: dict[str, str] = {}
    propagator.inject(outgoing, context)  # what the next call carries is what counts
    return (format_trace_id(span_context.trace_id), format_span_id(span_context.span_id),
            outgoing.get("tracestate", ""))


# Header lines as a list = several lines of the same header; a string = one line.
@pytest.mark.parametrize(("carrier", "expected"), [
    ({"traceparent": PARENT_1}, (TRACE_1, "b7ad6b7169203331", "")),
    ({"traceparent": [PARENT_1, PARENT_1]}, (TRACE_1, "b7ad6b7169203331", "")),
    ({"traceparent": f"{PARENT_1},{PARENT_1}"}, (TRACE_1, "b7ad6b7169203331", "")),
    ({"traceparent": f"{PARENT_1}, {PARENT_1}"}, (TRACE_1, "b7ad6b7169203331", "")),
    ({"traceparent": [PARENT_1, PARENT_2]}, None),
    ({"traceparent": f"{PARENT_1},{PARENT_2}"}, None),
    ({"traceparent": f"{PARENT_1}, {PARENT_2}"}, None),
    ({"traceparent": [PARENT_1, f"{PARENT_1},{PARENT_2}"]}, None),
    ({}, None),
    ({"traceparent": ""}, None),
    ({"traceparent": "00-not-a-traceparent-01"}, None),
    ({"traceparent": f"00-{'0' * 32}-b7ad6b7169203331-01"}, None),
    ({"traceparent": "x" * 10_000}, None),
    ({"traceparent": PARENT_1, "tracestate": "a=1"}, (TRACE_1, "b7ad6b7169203331", "a=1")),
    ({"traceparent": PARENT_1, "tracestate": ["a=1", "b=2"]}, (TRACE_1, "b7ad6b7169203331", "a=1,b=2")),
    ({"traceparent": PARENT_1, "tracestate": ["a=1", "", "b=2"]}, (TRACE_1, "b7ad6b7169203331", "a=1,b=2")),
    ({"traceparent": PARENT_1, "tracestate": ["", "a=1, ,b=2"]}, (TRACE_1, "b7ad6b7169203331", "a=1,b=2")),
    ({"traceparent": [PARENT_1, PARENT_2], "tracestate": "a=1"}, None),
])
def test_extract(carrier, expected):
    assert extracted(carrier) == expected


def test_extract_reads_joined_lines_from_a_wsgi_environ():
    environ = {"HTTP_TRACEPARENT": f"{PARENT_1},{PARENT_1}", "HTTP_TRACESTATE": "a=1,b=2"}
    context = StrictTraceContextPropagator().extract(environ, getter=wsgi_getter)
    assert format_trace_id(trace.get_current_span(context).get_span_context().trace_id) == TRACE_1


def test_inject_writes_one_traceparent():
    carrier: dict[str, str] = {}
    parent = StrictTraceContextPropagator().extract({"traceparent": PARENT_1, "tracestate": "a=1"})
    StrictTraceContextPropagator().inject(carrier, parent)
    assert carrier == {"traceparent": PARENT_1, "tracestate": "a=1"}


@pytest.mark.parametrize(("lines", "expected"), [
    (None, []),
    ([], []),
    ([PARENT_1], []),
    ([PARENT_1, PARENT_1], []),
    ([f" {PARENT_1} ,{PARENT_1}"], []),
    ([PARENT_1, PARENT_2], [PARENT_1, PARENT_2]),
    ([f"{PARENT_2}, {PARENT_1}", PARENT_2], [PARENT_2, PARENT_1]),
])
def test_conflicting_traceparents(lines, expected):
    assert conflicting_traceparents(lines) == expected


def test_split_header_values_drops_empty_members():
    assert split_header_values(["a=1,, b=2", "", " c=3 "]) == ["a=1", "b=2", "c=3"]


# Through the running app: the global propagator is the strict one.

def test_identical_duplicates_keep_the_parent(client, spans):
    client.get("/api/process", headers=[("traceparent", PARENT_1), ("traceparent", PARENT_1)])
    server = only_server_span(spans)
    assert trace_hex(server) == TRACE_1
    assert format_span_id(server.parent.span_id) == "b7ad6b7169203331"
    assert not [e for e in server.events if e.name == "app.traceparent.rejected"]


@pytest.mark.parametrize("headers", [
    [("traceparent", PARENT_1), ("traceparent", PARENT_2)],
    [("traceparent", f"{PARENT_1},{PARENT_2}")],
])
def test_conflicting_values_start_a_new_trace_and_are_reported(client, spans, log_lines, headers):
    response = client.get("/api/process", headers=headers)
    assert response.status_code == 200
    server = only_server_span(spans)
    assert server.parent is None
    assert trace_hex(server) not in (TRACE_1, TRACE_2)
    rejected = [e.attributes["app.traceparent.value"] for e in server.events if e.name == "app.traceparent.rejected"]
    assert rejected == [PARENT_1, PARENT_2]
    assert server.attributes["app.traceparent.rejected_count"] == 2
    warnings = [line for line in log_lines() if line["message"] == "rejected conflicting traceparent headers"]
    assert len(warnings) == 1
    assert warnings[0]["level"] == "WARN"
    assert warnings[0]["header"] == "traceparent"
    assert warnings[0]["rejected_count"] == 2
    assert warnings[0]["trace_id"] == trace_hex(server)


def distinct_parents(count: int) -> list[str]:
    return [f"00-{n + 1:032x}-{n + 1:016x}-01" for n in range(count)]


LONG_VALUE = "x" * 7006  # one comma-free value as long as a header line allows
# (traceparent header lines, the distinct values rejected in order)
REJECTED = [
    (distinct_parents(2), distinct_parents(2)),
    (distinct_parents(8), distinct_parents(8)),
    (distinct_parents(9), distinct_parents(9)),
    (distinct_parents(61), distinct_parents(61)),
    ([",".join(distinct_parents(61))], distinct_parents(61)),  # one comma-joined line
    ([PARENT_1, PARENT_1, PARENT_2, PARENT_2], [PARENT_1, PARENT_2]),  # identical duplicates count once
    ([LONG_VALUE, PARENT_1], [LONG_VALUE, PARENT_1]),
    ([PARENT_1, LONG_VALUE], [PARENT_1, LONG_VALUE]),
]


@pytest.mark.parametrize(("lines", "rejected"), REJECTED, ids=lambda v: f"{len(v)} values" if isinstance(v, list) else None)
def test_rejected_values_are_counted_and_bounded_on_the_span(client, spans, log_lines, lines, rejected):
    response = client.get("/api/process", headers=[("traceparent", line) for line in lines])

    assert response.status_code == 200
    server = only_server_span(spans)
    assert server.parent is None
    assert server.attributes["app.traceparent.rejected_count"] == len(rejected)
    events = [e.attributes["app.traceparent.value"] for e in server.events if e.name == "app.traceparent.rejected"]
    assert events == [value[:MAX_REJECTED_VALUE_CHARS] for value in rejected[:MAX_REJECTED_EVENTS]]
    [warning] = [line for line in log_lines() if line["message"] == "rejected conflicting traceparent headers"]
    assert (warning["header"], warning["rejected_count"]) == ("traceparent", len(rejected))
    # The values are attacker-controlled: the log line never carries them.
    assert not any(value[:32] in json.dumps(warning) for value in rejected)


TRACESTATE_KEY_256 = "z" * 256
TENANT_241 = "t" * 241
VENDOR_14 = "v" * 14
# tracestate header lines -> the tracestate continued ("" = dropped whole).
# Whatever happens to tracestate, the traceparent is continued.
TRACESTATES = [
    (["a=1"], "a=1"),
    (["a=1", "b=2"], "a=1,b=2"),
    (["a=1", "", "b=2"], "a=1,b=2"),
    (["a=1,,b=2"], "a=1,b=2"),
    (["a=1, ,b=2", " "], "a=1,b=2"),
    (["a=1 , b=2"], "a=1,b=2"),
    ([",".join(f"k{n}=v" for n in range(32))], ",".join(f"k{n}=v" for n in range(32))),
    ([",".join(f"k{n}=v" for n in range(33))], ""),
    ([",".join(f"k{n}=v" for n in range(20)), ",".join(f"m{n}=v" for n in range(13))], ""),  # 33 over two lines
    ([",".join(f"k{n}=v" for n in range(32)) + ",k0=w"], ""),  # 33 members, one a duplicate key: still 33
    ([f"{TRACESTATE_KEY_256}=1"], f"{TRACESTATE_KEY_256}=1"),
    ([f"{TRACESTATE_KEY_256}z=1"], ""),
    ([f"{TENANT_241}@{VENDOR_14}=1"], f"{TENANT_241}@{VENDOR_14}=1"),
    ([f"{TENANT_241}t@v=1"], f"{TENANT_241}t@v=1"),
    ([f"t@{VENDOR_14}v=1"], f"t@{VENDOR_14}v=1"),
    (["1tenant@vendor=1"], "1tenant@vendor=1"),
    (["a-b_c*d/e=1"], "a-b_c*d/e=1"),
    (["1abc=1"], "1abc=1"),  # a key may start with a digit
    (["foo@=1,bar=2"], "foo@=1,bar=2"),  # "@" anywhere after the first character
    (["@foo=1,bar=2"], ""),
    (["foo@@bar=1,bar=2"], "foo@@bar=1,bar=2"),
    (["foo@bar@baz=1,bar=2"], "foo@bar@baz=1,bar=2"),
    (["foo@1bar=1"], "foo@1bar=1"),
    (["Foo=1"], ""),
    (["fo.o=1"], ""),
    (["foo=1,foo=1"], "foo=1"),  # a repeated key: the first member is kept
    (["foo=1", "foo=2"], "foo=1"),
    (["foo=1,foo=2,Bar=3"], ""),
    (["foo"], ""),
    (["foo="], ""),
    (["=1"], ""),
    (["foo=a=b"], ""),
    ([f"foo={'v' * 256}"], f"foo={'v' * 256}"),
    ([f"foo={'v' * 257}"], ""),
    (["foo= leading"], "foo= leading"),
    (["foo=a b"], "foo=a b"),
    (["foo=a\tb"], ""),
    (["foo=caf\u00e9"], ""),
    (["foo=\x7f"], ""),
    (["a=1,B=2"], ""),  # one bad member drops the whole list
    ([" !\"#$%&'()*+-./0123456789:;<>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"], ""),
    (["k= !\"#$%&'()*+-./0123456789:;<>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"],
     "k= !\"#$%&'()*+-./0123456789:;<>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"),
]


@pytest.mark.parametrize(("lines", "expected"), TRACESTATES, ids=[repr(t[0])[:60] for t in TRACESTATES])
def test_tracestate_is_validated_whole(lines, expected):
    assert extracted({"traceparent": PARENT_1, "tracestate": lines}) == (TRACE_1, "b7ad6b7169203331", expected)


def test_a_huge_tracestate_is_read_only_up_to_the_member_limit():
    # gunicorn lets 100 header lines of 16 KiB through: 400k members here. The
    # list is refused after its 33rd member; splitting it all first took 26 MiB.
    carrier = {"traceparent": PARENT_1, "tracestate": ",".join(["a=1"] * 400_000)}
    tracemalloc.start()
    try:
        found = extracted(carrier)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found == (TRACE_1, "b7ad6b7169203331", "")
    assert peak < 256 * 1024, f"reading the tracestate took {peak} bytes"


# Incoming flags -> flags of the outgoing call (Level 2: 0x02 = random trace id):
# every request is recorded, so the call says sampled; the random flag goes on.
@pytest.mark.parametrize(("incoming", "outgoing"), [("00", "01"), ("01", "01"), ("02", "03"), ("03", "03")])
def test_trace_flags_are_carried_onto_outgoing_calls(client, spans, recording_server, incoming, outgoing):
    response = client.post("/test", json=[{"url": recording_server.url, "arguments": []}],
                           headers={"traceparent": f"00-{TRACE_1}-b7ad6b7169203331-{incoming}"})
    assert response.status_code == 200
    [call] = recording_server.requests
    [traceparent] = call.values("traceparent")
    assert traceparent.startswith(f"00-{TRACE_1}-") and traceparent.endswith(f"-{outgoing}")

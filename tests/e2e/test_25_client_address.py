"""A client cannot choose the address its request is stored with
(docs/contract.md, "Headers"): the gateway sets X-Forwarded-For from the
connection and drops Forwarded, whatever the client sent.

The expected client.address is the one the same service stores for the same
client when it sends neither header: the gateway's view of the client as that
service records it (service-b reads X-Forwarded-For; service-a and service-c
record the connection's peer). A spoofed address must appear nowhere in the
trace."""

from __future__ import annotations

import pytest

from tests.support import raw_http
from tests.support.store_waits import has_span, wait_for_trace
from tools.native.stack import SERVICES

# Addresses from the documentation ranges (RFC 5737), never a real client here.
SPOOFS = {
    "X-Forwarded-For": [("X-Forwarded-For", "192.0.2.1")],
    "X-Forwarded-For with a chain": [("X-Forwarded-For", "192.0.2.1, 198.51.100.2")],
    "two X-Forwarded-For lines": [("X-Forwarded-For", "192.0.2.1"), ("X-Forwarded-For", "198.51.100.2")],
    "Forwarded": [("Forwarded", "for=203.0.113.3")],
    "Forwarded, quoted with a port": [("Forwarded", 'for="203.0.113.3:4711";proto=https')],
    "Forwarded and X-Forwarded-For": [("Forwarded", "for=203.0.113.3"), ("X-Forwarded-For", "192.0.2.1")],
}
SPOOFED_ADDRESSES = ("192.0.2.1", "198.51.100.2", "203.0.113.3")


def stored_server_span(stack, service: str, header_lines: list[tuple[str, str]]):
    """Send GET /<service>/api/process through the gateway; the service's stored server span."""
    response = raw_http.send(stack.gateway_url, "GET", f"/{service}/api/process?fail=false", header_lines)
    assert response.status == 200, response.body[:300]
    trace = wait_for_trace(stack.store, response.json()["otel_trace_id"], has_span(service, "SERVER"),
                           timeout=stack.trace_timeout, describe=f"{service}'s server span")
    [server] = [span for span in trace.of_kind("SERVER") if span.service == service]
    return trace, server


@pytest.fixture(scope="module")
def honest_client_address(stack) -> dict[str, str]:
    """Per service, the client.address it stores for this client's plain request."""
    addresses = {service: stored_server_span(stack, service, [])[1].attributes.get("client.address")
                 for service in SERVICES}
    assert all(addresses.values()), f"a server span without client.address: {addresses}"
    return addresses


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("spoof", SPOOFS)
def test_spoofed_forwarding_headers_do_not_change_client_address(stack, honest_client_address, service, spoof):
    trace, server = stored_server_span(stack, service, SPOOFS[spoof])

    assert server.attributes.get("client.address") == honest_client_address[service], (
        f"sent {SPOOFS[spoof]}; stored client.address {server.attributes.get('client.address')!r}, "
        f"the gateway's view of this client is {honest_client_address[service]!r}")
    leaked = {(span.label(), key): value for span in trace.spans for key, value in span.attributes.items()
              if any(address in str(value) for address in SPOOFED_ADDRESSES)}
    assert not leaked, f"a spoofed address reached the store: {leaked}"

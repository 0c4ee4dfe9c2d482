"""The id formats of docs/contract.md, in one place for every test that checks them."""

from __future__ import annotations

import re

# X-Trace-ID as the gateway (or a service called directly) mints it; group 1 is the UTC timestamp.
MINTED_X_TRACE_ID = re.compile(r"^trace-(\d{8}T\d{6}Z)-[0-9a-f]{8}$")
OTEL_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
# "Input rules": a client's X-Trace-ID is kept only if it matches this.
KEPT_X_TRACE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")

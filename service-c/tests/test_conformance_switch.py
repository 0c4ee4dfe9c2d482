"""CONFORMANCE_ENDPOINT=off (docs/contract.md, "Environment"): /test is no route,
so every method gets exactly the answer of an unknown path, and the URL the
body names is never called."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize("method", ["POST", "GET", "HEAD", "PUT", "OPTIONS"])
def test_switched_off_test_answers_as_an_unknown_path(make_client, recording_server, method):
    client = make_client(conformance_endpoint=False)
    body = json.dumps([{"url": f"{recording_server.url}/never", "arguments": []}])
    options = {"data": body, "content_type": "application/json"}

    unknown = client.open("/no-such-route", method=method, **options)
    answer = client.open("/test", method=method, **options)

    assert answer.status_code == unknown.status_code == 404
    assert "Allow" not in answer.headers
    assert answer.content_type == unknown.content_type
    if method != "HEAD":
        assert answer.json["error"] == "not_found"
        assert (answer.json["error"], answer.json["message"]) == (unknown.json["error"], unknown.json["message"])
    assert recording_server.requests == []

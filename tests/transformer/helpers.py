"""Shared by the transformer tests: a destination config, and the conformance vectors and their rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from destinations.customerio import OutgoingRequest, transform

# The vectors live next to the repository, never in it (see ../shared/conformance/README.md).
CONFORMANCE = Path(__file__).resolve().parents[2].parent / "shared" / "conformance"

SITE_ID, API_KEY = "site-1", "key-1"
AUTHORIZATION = "Basic c2l0ZS0xOmtleS0x"  # base64("site-1:key-1")
US, EU = "https://track.customer.io", "https://track-eu.customer.io"


def config(**settings: Any) -> dict[str, Any]:
    return {"siteID": SITE_ID, "apiKey": API_KEY, "datacenter": "US", **settings}


def send(message: Any, **settings: Any) -> OutgoingRequest:
    """The one request `transform` makes for `message` under `config(**settings)`."""
    requests = transform(message, config(**settings))
    assert len(requests) == 1
    return requests[0]


def item(message: Any, **settings: Any) -> dict[str, Any]:
    """The one /api/v2/batch item for `message`."""
    request = send(message, **settings)
    assert request.is_batch and len(request.body["batch"]) == 1
    return request.body["batch"][0]


def cases(name: str) -> list[dict[str, Any]]:
    return json.loads((CONFORMANCE / name).read_text())


def case_config(case: dict[str, Any]) -> dict[str, Any]:
    """A case's destination config, with its connection when it has one (record cases: the connection's
    settings say whether the rows are people or events), as RudderStack's router passes both."""
    if "connection" in case:
        return {**case["config"], "connection": case["connection"]}
    return case["config"]


def assert_request_matches(expected: dict[str, Any], actual: dict[str, Any]) -> None:
    """The README's rules: method and endpoint exact, body as JSON (null matches empty), expected
    headers present (names case-insensitive).

    processor.json shows a group as its bare batch item (the reference batches later); we send every
    batch item wrapped, {"batch": [item]}, so a bare expected item is compared with our only item.
    """
    assert actual["method"] == expected["method"]
    assert actual["endpoint"] == expected["endpoint"]
    body = actual["body"]
    if isinstance(body, dict) and "batch" in body and "batch" not in (expected["body"] or {}):
        assert len(body["batch"]) == 1
        body = body["batch"][0]
    if expected["body"] is None:
        assert body in (None, {})
    else:
        assert body == expected["body"]
    headers = {name.lower(): value for name, value in actual["headers"].items()}
    for name, value in expected["headers"].items():
        assert headers.get(name.lower()) == value, name


def assert_router_results_match(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> None:
    """Router results in the vector's order: requests in sending order, then errors in input order."""
    assert [result["messages"] for result in actual] == [result["messages"] for result in expected]
    for want, got in zip(expected, actual, strict=True):
        if "error" in want:
            assert "error" in got, got
        else:
            assert len(want["requests"]) == 1
            assert_request_matches(want["requests"][0], got["request"])

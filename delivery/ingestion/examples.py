"""What the Python SDKs send, as examples for the OpenAPI document (shapes from their sources)."""

from __future__ import annotations

from typing import Any

LIBRARY = {"library": {"name": "analytics-python", "version": "2.1.9"}}
COMMON = {
    "messageId": "5c8e5cbd-4a1f-4c53-9a0e-0d0b3c7e8a10",
    "timestamp": "2026-01-05T10:00:00.000+00:00",
    "integrations": {"All": True},
    "channel": "server",
}
MESSAGES: dict[str, dict[str, Any]] = {
    "identify": {"userId": "user-42", "context": {**LIBRARY, "traits": {"email": "ada@example.com"}}},
    "track": {
        "userId": "user-42",
        "event": "Order Completed",
        "properties": {"revenue": 42.5, "currency": "USD"},
        "context": LIBRARY,
    },
    "page": {
        "anonymousId": "anon-7",
        "name": "Pricing",
        "properties": {"path": "/pricing"},
        "context": LIBRARY,
    },
    "screen": {"userId": "user-42", "name": "Settings", "properties": {}, "context": LIBRARY},
    "group": {"userId": "user-42", "groupId": "acme", "traits": {"plan": "enterprise"}, "context": LIBRARY},
    "alias": {"userId": "user-42", "previousId": "anon-7", "context": LIBRARY},
}


def message(kind: str) -> dict[str, Any]:
    return {**COMMON, "type": kind, **MESSAGES[kind]}


def for_endpoint(kind: str | None) -> list[tuple[str, dict[str, Any]]]:
    if kind is not None:
        return [(f"{kind} from analytics-python", message(kind))]
    batch = [message("identify"), {**message("track"), "messageId": "0f9d3a52-8d0e-4a8b-a0f5-6a1f0d3c2b11"}]
    return [("batch from analytics-python", {"batch": batch, "sentAt": "2026-01-05T10:00:00.500+00:00"})]

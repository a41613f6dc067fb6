"""Reporting webhook bodies shaped as Customer.io documents them (https://docs.customer.io/api/webhooks/),
and posting them signed as Customer.io signs them."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from delivery.webhooks.signature import sign

SIGNING_KEY = "5191ed5191ed5191ed5191ed"
_numbers = itertools.count(1)

# Every (channel, metric) pair of Customer.io's reporting webhook reference.
METRICS = {
    "customer": ("subscribed", "unsubscribed", "cio_subscription_preferences_changed"),
    "email": (
        "drafted",
        "attempted",
        "sent",
        "delivered",
        "opened",
        "clicked",
        "converted",
        "unsubscribed",
        "bounced",
        "dropped",
        "spammed",
        "failed",
        "undeliverable",
    ),
    "push": (
        "drafted",
        "attempted",
        "sent",
        "delivered",
        "opened",
        "clicked",
        "converted",
        "bounced",
        "dropped",
        "failed",
        "undeliverable",
    ),
    "sms": (
        "drafted",
        "attempted",
        "sent",
        "delivered",
        "clicked",
        "converted",
        "bounced",
        "failed",
        "undeliverable",
    ),
    "in_app": ("attempted", "sent", "opened", "clicked", "converted", "failed", "undeliverable"),
    "slack": ("drafted", "attempted", "sent", "clicked", "converted", "failed"),
    "webhook": ("drafted", "attempted", "sent", "clicked", "converted", "failed", "undeliverable"),
}
# Where each channel's message went, as Customer.io names it in `recipient`.
RECIPIENTS = {
    "email": "ann@example.com",
    "push": "fcm-device-token-0123",
    "sms": "+15551234567",
    "in_app": "ann",
    "slack": "#support",
    "webhook": "https://hooks.example.com/cio",
}
FAILING = {"bounced", "dropped", "failed", "undeliverable", "spammed", "attempted"}


def event(
    object_type: str = "email",
    metric: str = "sent",
    *,
    customer_id: str = "ann",
    email: str = "ann@example.com",
    timestamp: int | None = None,
    delivery_id: str = "RPILAgABcRhIBqSp7kiPekGBIeVh",
    event_id: str | None = None,
    **data: Any,
) -> dict[str, Any]:
    """One reporting webhook event as Customer.io posts it."""
    body: dict[str, Any] = {
        "customer_id": customer_id,
        "identifiers": {"id": customer_id, "email": email, "cio_id": f"cio{customer_id}"},
    }
    if object_type == "customer":
        body["email_address"] = email
    else:
        body.update(
            delivery_id=delivery_id,
            recipient=RECIPIENTS.get(object_type, email),
            campaign_id=5,
            action_id=36,
            journey_id="01GW20GXAAXBKZD8J96M8FNV3R",
        )
        if object_type == "email":
            body.update(email_address=email, subject="Welcome!")
        if metric == "clicked":
            body.update(href="https://example.com/start", link_id=1)
        if metric in FAILING:
            body["failure_message"] = f"{metric}: 550 5.1.1 mailbox does not exist"
    body.update(data)
    return {
        "event_id": event_id or f"01E4C4CT6YDC7Y5M7FE1GW{next(_numbers):04d}",
        "object_type": object_type,
        "metric": metric,
        "timestamp": timestamp if timestamp is not None else int(time.time()),
        "data": body,
    }


def signed_headers(body: bytes, key: str = SIGNING_KEY, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-CIO-Timestamp": stamp, "X-CIO-Signature": sign(key, stamp, body)}


def post(client, destination, document: Any, key: str = SIGNING_KEY, **header_changes: str | None):
    """POST `document` to the destination's webhook address, signed with `key`; headers may be changed
    (a value of None leaves the header out)."""
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    headers = {**signed_headers(body, key), **header_changes}
    extra = {
        f"HTTP_{name.upper().replace('-', '_')}": value
        for name, value in headers.items()
        if value is not None
    }
    return client.post(destination.webhook_path(), body, content_type="application/json", **extra)

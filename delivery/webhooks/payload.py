"""A reporting webhook body read into the fields of a MessageActivity row.

Customer.io posts one event per request (https://docs.customer.io/api/webhooks/):

    {"event_id": "01E4C4CT6YDC7Y5M7FE1GWWPQJ", "object_type": "email", "metric": "bounced",
     "timestamp": 1613063089,
     "data": {"customer_id": "42", "identifiers": {"id": "42", "email": "ann@example.com",
              "cio_id": "d9c106000001"}, "email_address": "ann@example.com",
              "delivery_id": "RPILAgABcRhIBqSp7kiPekGBIeVh", "campaign_id": 5, "action_id": 36,
              "subject": "Welcome!", "failure_message": "550 5.1.1 mailbox does not exist"}}

Everything beyond event_id, object_type, metric and timestamp is optional: a channel has the fields
it has (push names a device, SMS a phone number as the recipient, a click the link it followed).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from delivery.models import normal_email

# Customer.io's message ids; numbers in the body, kept as text.
MESSAGE_IDS = ("campaign_id", "action_id", "broadcast_id", "newsletter_id", "transactional_message_id")
# Names Customer.io or a proxy in front of it may add; the first present names the message.
MESSAGE_NAMES = ("campaign_name", "broadcast_name", "newsletter_name", "transactional_message_name", "name")
# Where the reason for a failure, a drop or a bounce is, in the order they are looked at.
REASONS = ("failure_message", "reason", "error", "message")
TEXT_LIMITS = {"event_id": 255, "object_type": 32, "metric": 64}
FIELD_LIMIT = 255


class PayloadError(Exception):
    """The body is not a reporting webhook event; the message names the field."""


def activity_fields(body: bytes) -> dict[str, Any]:
    """The row's fields, from the raw body; raises PayloadError naming what is wrong."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise PayloadError(f"the body is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise PayloadError("the body must be one JSON object (one reporting webhook event)")
    top = {name: _required_text(document, name, limit) for name, limit in TEXT_LIMITS.items()}
    data = document.get("data", {})
    if not isinstance(data, dict):
        raise PayloadError("data: must be an object")
    identifiers = data.get("identifiers") if isinstance(data.get("identifiers"), dict) else {}
    email = _text(identifiers.get("email")) or _text(data.get("email_address"))
    return {
        **top,
        "occurred_at": _timestamp(document.get("timestamp")),
        "customer_id": _text(data.get("customer_id")) or _text(identifiers.get("id")),
        "cio_id": _text(identifiers.get("cio_id")),
        "email": normal_email(email),
        "recipient": _text(data.get("recipient")) or email,
        "cio_delivery_id": _text(data.get("delivery_id")),
        **{name: _text(data.get(name))[:32] for name in MESSAGE_IDS},
        "message_name": _first_text(data, MESSAGE_NAMES) or _text(data.get("subject")),
        "reason": _reason(top["metric"], data),
        "raw_body": body.decode("utf-8", "replace").replace("\x00", "\ufffd"),
    }


def _required_text(document: dict, name: str, limit: int) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value.strip():
        raise PayloadError(f"{name}: required, a non-empty string")
    if len(value) > limit:
        raise PayloadError(f"{name}: at most {limit} characters")
    return value.replace("\x00", "").strip()


def _timestamp(value: Any) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError("timestamp: required, a Unix time in seconds")
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise PayloadError("timestamp: not a time this server can read") from None


def _text(value: Any) -> str:
    """A string or number from the body as text, cut to the column's length; anything else as empty."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float | str):
        # PostgreSQL's text holds no NUL character; JSON can carry one as \u0000.
        return str(value).replace("\x00", "").strip()[:FIELD_LIMIT]
    return ""


def _first_text(data: dict, names: tuple[str, ...]) -> str:
    return next((text for text in (_text(data.get(name)) for name in names) if text), "")


def _reason(metric: str, data: dict) -> str:
    if metric == "clicked":
        return _text(data.get("href"))
    reason = next((data[name] for name in REASONS if isinstance(data.get(name), str) and data[name]), "")
    return reason.replace("\x00", "").strip()

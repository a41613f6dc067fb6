"""Fields the server fills in, as the hosted services do: messageId, receivedAt, context.ip,
timestamp, channel, and the import marker.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from delivery.ingestion.timestamps import fill_timestamps, iso
from delivery.models import Event

DEFAULT_CHANNEL = "server"
RELAY_KEY = Event.RELAY_KEY


@dataclass(frozen=True)
class Arrival:
    """What the server knows about the request an event came in."""

    received_at: datetime
    ip: str
    historical: bool
    batch_sent_at: Any = None
    request_id: str = ""


def _message_id(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else "" if value is None else str(value)
    return text or str(uuid.uuid4())


def _context(value: dict | None, ip: str) -> dict:
    context = dict(value or {})
    client_ip = context.get("ip")
    if ip and not (isinstance(client_ip, str) and client_ip.strip()):
        context["ip"] = ip
    return context


def fill_in(message: dict, kind: str, arrival: Arrival) -> dict:
    """A copy of a validated message with the server's fields set; the write key never stays in it."""
    filled = dict(message)
    filled.pop("writeKey", None)
    filled.pop(RELAY_KEY, None)
    filled["type"] = kind
    filled["messageId"] = _message_id(message.get("messageId"))
    for field in ("userId", "anonymousId"):
        if isinstance(filled.get(field), int | float):
            filled[field] = str(filled[field])
    filled["receivedAt"] = iso(arrival.received_at)
    if filled.get("sentAt") is None and arrival.batch_sent_at is not None:
        filled["sentAt"] = arrival.batch_sent_at
    filled["context"] = _context(message.get("context"), arrival.ip)
    if not filled.get("channel"):
        filled["channel"] = DEFAULT_CHANNEL
    fill_timestamps(filled, arrival.received_at, arrival.historical)
    relay: dict[str, Any] = {"requestId": arrival.request_id} if arrival.request_id else {}
    if arrival.historical:
        relay["import"] = True
    if relay:
        filled[RELAY_KEY] = relay
    return filled

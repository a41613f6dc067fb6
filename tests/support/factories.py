"""Rows as the ingestion API writes them, for tests that start after ingestion."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.utils import timezone

from delivery.ingest import email, event_name
from delivery.models import Event
from destinations.models import Source


def store_event(source: Source, message: dict[str, Any], received_at: datetime | None = None) -> Event:
    """`message` stored for `source`, its searchable columns read from it by the ingestion API's rules."""
    message = {"messageId": str(uuid.uuid4()), **message}
    return Event.objects.create(
        source=source,
        message_id=message["messageId"],
        type=message["type"],
        user_id=message.get("userId") or "",
        anonymous_id=message.get("anonymousId") or "",
        email=email(message),
        event_name=event_name(message),
        payload=message,
        received_at=received_at or timezone.now(),
    )

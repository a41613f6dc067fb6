"""Factories for the event tester's and the dashboards' tests: rows as ingestion and the engine write them."""

from __future__ import annotations

import base64
import itertools
from datetime import datetime
from typing import Any

from delivery.models import Delivery, Event
from destinations.models import Destination, Source
from tests.support.factories import store_event

# Well-formed credentials, so that a leak of either is easy to search for in a page.
API_KEY = "0badc0ffee0badc0ffee"
SITE_ID = "5171e1d0a1"
_numbers = itertools.count(1)


def secrets() -> list[str]:
    """The API key as itself and inside the Base64 of the HTTP Basic header that carries it."""
    return [API_KEY, base64.b64encode(f"{SITE_ID}:{API_KEY}".encode()).decode()]


def make_source(name: str | None = None) -> Source:
    return Source.objects.create(name=name or f"source-{next(_numbers)}")


def make_destination(*sources: Source, **fields: Any) -> Destination:
    destination = Destination.objects.create(
        **{"name": f"Customer.io {next(_numbers)}", "site_id": SITE_ID, "api_key": API_KEY, **fields}
    )
    destination.sources.add(*(sources or [make_source()]))
    return destination


def make_event(source: Source, message: dict[str, Any], received_at: datetime | None = None) -> Event:
    """A stored event, as read back: PostgreSQL's jsonb keeps an object's keys in its own order."""
    return Event.objects.get(pk=store_event(source, message, received_at).pk)


def make_deliveries(
    destination: Destination, status: str, created_at: datetime, count: int = 1
) -> list[Delivery]:
    """`count` deliveries of one event each, received at `created_at`, now in `status`."""
    source = destination.sources.first()
    finished = created_at if status in Delivery.TERMINAL else None
    deliveries = []
    for _ in range(count):
        event = make_event(source, {"type": "track", "userId": "ann", "event": "Paid"}, created_at)
        deliveries.append(
            Delivery(
                event=event,
                destination=destination,
                source=source,
                message_type="track",
                event_name="Paid",
                person="ann",
                status=status,
                next_attempt_at=created_at,
                created_at=created_at,
                finished_at=finished,
            )
        )
    return Delivery.objects.bulk_create(deliveries)

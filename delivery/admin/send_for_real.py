"""Sending a test event for real: stored exactly as the ingestion API stores one, for one destination.

The event goes through the ingestion API's own checks and fill-in (delivery.ingestion.views.prepare) and
its own store (delivery.ingestion.store), which commits the event with a pending delivery and then
rings the doorbell. Its source is a dedicated "Event tester" source, created disabled on first use:
test events stay apart from an SDK's traffic in the log (filter by that source), a person need not
pick a source, and a disabled source's write key is refused by the ingestion API, so the source is
never a way in. Only the chosen destination gets a delivery, whatever the source is connected to.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from delivery.ingestion.enrich import Arrival
from delivery.ingestion.sources import DestinationRef, SourceRef
from delivery.ingestion.store import store
from delivery.ingestion.views import prepare
from delivery.models import Delivery, Event
from destinations.models import TESTER_SOURCE_NAME, Destination, Source


def arrival(now: datetime | None = None) -> Arrival:
    """An event arriving from the tester: live, and with no client IP to fill in (the browser that
    pressed the button is not the person's device)."""
    return Arrival(now or timezone.now(), ip="", historical=False)


def as_ingested(raw: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """The event as the ingestion API would store it; raises IngestError naming the field it refuses."""
    return prepare(raw, "", None, arrival(now))


def tester_source() -> Source:
    source, _ = Source.objects.get_or_create(name=TESTER_SOURCE_NAME, defaults={"enabled": False})
    return source


@dataclass(frozen=True)
class Sent:
    delivery: Delivery
    renamed: bool  # the event's messageId was stored by an earlier test, so it got a new one


def send_for_real(raw: dict[str, Any], destination: Destination) -> Sent:
    """Store the event and one pending delivery for `destination`; raises IngestError if refused."""
    now = timezone.now()
    message = as_ingested(raw, now)
    source = tester_source()
    # Stored again under its messageId, the event would be dropped as a duplicate: a second press of
    # the button means a second event.
    renamed = Event.objects.filter(source=source, message_id=message["messageId"]).exists()
    if renamed:
        message["messageId"] = str(uuid.uuid4())
    reference = SourceRef(
        id=source.pk,
        name=source.name,
        enabled=source.enabled,
        destinations=(DestinationRef(id=destination.pk, name=destination.name),),
    )
    store(reference, [message], now)
    delivery = Delivery.objects.select_related("event").get(
        source_id=source.pk, destination_id=destination.pk, event__message_id=message["messageId"]
    )
    return Sent(delivery, renamed)

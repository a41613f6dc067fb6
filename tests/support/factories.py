"""One factory per model, shared by every test package: rows as the ingestion API and the engine write them.

Events and deliveries take their copied columns (user, email, event name, person) from the message by
the ingestion API's own row rules, so a factory's row is the row ingestion would have written.
"""

from __future__ import annotations

import base64
import itertools
import uuid
from datetime import datetime
from typing import Any

from django.utils import timezone

from delivery.ingestion.rows import event_row, person
from delivery.models import Delivery, DeliveryAttempt, Event, SentRequest
from destinations.models import Destination, Source

# Well-formed Customer.io credentials (20 hex characters), so a leak of either is easy to search for.
API_KEY = "0badc0ffee0badc0ffee"
SITE_ID = "5171e1d0a1"
_numbers = itertools.count(1)


def secret_forms(site_id: str = SITE_ID, api_key: str = API_KEY) -> list[str]:
    """The API key as itself, and inside the Base64 of the HTTP Basic header that carries it."""
    return [api_key, base64.b64encode(f"{site_id}:{api_key}".encode()).decode()]


def make_source(name: str | None = None, **fields: Any) -> Source:
    return Source.objects.create(name=name or f"source {next(_numbers)}", **fields)


def make_destination(*sources: Source, name: str | None = None, **fields: Any) -> Destination:
    """A destination connected to `sources`, or to a new source of its own when none is given."""
    values = {"site_id": SITE_ID, "api_key": API_KEY, **fields}
    destination = Destination.objects.create(name=name or f"Customer.io {next(_numbers)}", **values)
    destination.sources.set(sources or [make_source()])
    return destination


def track(person: str, event: str, **properties: Any) -> dict[str, Any]:
    return {"type": "track", "userId": person, "event": event, "properties": properties}


def identify(person: str, **traits: Any) -> dict[str, Any]:
    return {"type": "identify", "userId": person, "traits": traits}


def message(
    type: str = "track",
    *,
    user_id: str = "ann",
    anonymous_id: str = "",
    event: str = "Order Completed",
    email: str = "",
    message_id: str | None = None,
) -> dict[str, Any]:
    """A message of `type` as an SDK sends it: `event` is the track event, else the page or screen name."""
    built: dict[str, Any] = {"type": type, "messageId": message_id or str(uuid.uuid4()), "context": {}}
    built.update({"userId": user_id} if user_id else {})
    built.update({"anonymousId": anonymous_id} if anonymous_id else {})
    built.update({"event": event} if type == "track" else {"name": event} if event else {})
    built.update({"traits": {"email": email}} if email else {})
    return built


def store_event(source: Source, message: dict[str, Any], received_at: datetime | None = None) -> Event:
    """`message` stored for `source`, read back (PostgreSQL's jsonb keeps keys in its own order)."""
    message = {"messageId": str(uuid.uuid4()), **message}
    event = Event.objects.create(**event_row(source.pk, message, received_at or timezone.now(), 0))
    return Event.objects.get(pk=event.pk)


def delivery_of(event: Event, destination: Destination, **fields: Any) -> Delivery:
    """The (unsaved) delivery of a stored event to `destination`, pending and due when received."""
    values = {
        "event": event,
        "destination": destination,
        "source": event.source,
        "message_type": event.type,
        "event_name": event.event_name,
        "person": person(event.payload),
        "next_attempt_at": event.received_at,
        "created_at": event.received_at,
        **fields,
    }
    if values.get("status") in Delivery.TERMINAL:
        values.setdefault("finished_at", values["created_at"])
    return Delivery(**values)


def make_delivery(
    destination: Destination,
    sent: dict[str, Any] | None = None,
    *,
    received: datetime | None = None,
    source: Source | None = None,
    **fields: Any,
) -> Delivery:
    """An event as the ingestion API stores it (`sent`, by default ann's "Order Completed"), and its
    delivery to `destination`; `fields` set the delivery's own columns (status, attempt_count, ...)."""
    event = store_event(source or destination.sources.first(), sent or message(), received)
    delivery = delivery_of(event, destination, **fields)
    delivery.save()
    return delivery


def make_deliveries(
    destination: Destination, status: str, created_at: datetime, count: int = 1
) -> list[Delivery]:
    """`count` deliveries of one event each, received at `created_at`, now in `status`."""
    source = destination.sources.first()
    events = [store_event(source, track("ann", "Paid"), created_at) for _ in range(count)]
    return Delivery.objects.bulk_create(delivery_of(event, destination, status=status) for event in events)


def make_attempt(delivery: Delivery, *, status_code: int | None, outcome: str, **fields: Any) -> SentRequest:
    """One request to Customer.io that carried `delivery`, and what it meant for it."""
    sent = SentRequest.objects.create(
        destination=delivery.destination,
        started_at=fields.pop("started_at", timezone.now()),
        duration_ms=fields.pop("duration_ms", 87),
        method="PUT",
        url=f"https://track.customer.io/api/v1/customers/{delivery.person}",
        request_headers={"Authorization": "[redacted]"},
        status_code=status_code,
        **fields,
    )
    DeliveryAttempt.objects.create(delivery=delivery, sent_request=sent, outcome=outcome)
    return sent


def reload(delivery: Delivery) -> Delivery:
    return Delivery.objects.get(pk=delivery.pk)

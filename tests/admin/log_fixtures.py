"""Rows for the delivery log's admin tests: sources, destinations, events and their deliveries.

Plain factories, imported by the tests that use them (the page fixtures are pytest-django's own
`client` and `admin_client`).
"""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import Permission, User
from django.utils import timezone

from delivery.models import Attempt, Delivery, DeliveryAttempt
from destinations.models import Destination, Source
from tests.support.factories import store_event

API_KEY = "0123456789abcdef0123"
LOG_URL = "/admin/delivery/delivery/"
_names = itertools.count(1)


def make_destination(name: str | None = None, source: Source | None = None) -> Destination:
    source = source or Source.objects.create(name=f"source-{next(_names)}")
    destination = Destination.objects.create(
        name=name or f"Customer.io {next(_names)}", site_id="site", api_key=API_KEY
    )
    destination.sources.add(source)
    return destination


def make_delivery(
    destination: Destination,
    *,
    type: str = "track",
    user_id: str = "ann",
    anonymous_id: str = "",
    event: str = "Order Completed",
    email: str = "",
    message_id: str | None = None,
    received: datetime | None = None,
    source: Source | None = None,
    **fields: Any,
) -> Delivery:
    """An event as the ingestion API stores it, and its delivery to `destination`."""
    received = received or timezone.now()
    source = source or destination.sources.first()
    message = {"type": type, "messageId": message_id or str(uuid.uuid4()), "context": {}}
    message.update({"userId": user_id} if user_id else {})
    message.update({"anonymousId": anonymous_id} if anonymous_id else {})
    message.update({"event": event} if type == "track" else {"name": event} if event else {})
    message.update({"traits": {"email": email}} if email else {})
    stored = store_event(source, message, received)
    return Delivery.objects.create(
        **{
            "event": stored,
            "destination": destination,
            "source": source,
            "message_type": type,
            "event_name": event,
            "person": user_id or anonymous_id,
            "next_attempt_at": received,
            "created_at": received,
            **fields,
        }
    )


def make_attempt(delivery: Delivery, *, status_code: int | None, outcome: str, **fields: Any) -> Attempt:
    """One request to Customer.io that carried `delivery`, and what it meant for it."""
    attempt = Attempt.objects.create(
        destination=delivery.destination,
        started_at=fields.pop("started_at", timezone.now()),
        duration_ms=fields.pop("duration_ms", 87),
        method="PUT",
        url=f"https://track.customer.io/api/v1/customers/{delivery.person}",
        request_headers={"Authorization": "[redacted]"},
        status_code=status_code,
        **fields,
    )
    DeliveryAttempt.objects.create(delivery=delivery, attempt=attempt, outcome=outcome)
    return attempt


def ago(**delta: float) -> datetime:
    return timezone.now() - timedelta(**delta)


def viewer() -> User:
    """A staff member who may look at the log but not replay: the view permission only."""
    user = User.objects.create_user("viv", "viv@example.com", "a-long-password-for-tests", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_delivery"))
    return user


def reload(delivery: Delivery) -> Delivery:
    return Delivery.objects.get(pk=delivery.pk)

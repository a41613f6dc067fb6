"""What the admin's dashboard shows about a destination's delivery backlog, in one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min, Q
from django.utils import timezone

from delivery.models import Delivery


@dataclass(frozen=True)
class Backlog:
    pending: int
    retrying: int
    due: int  # could be sent now
    in_flight: int  # claimed by a worker
    oldest_open_at: datetime | None  # when the oldest delivery still open was received


def backlog(destination_id: int, now: datetime | None = None) -> Backlog:
    now = now or timezone.now()
    open_deliveries = Delivery.objects.filter(destination_id=destination_id, status__in=Delivery.OPEN)
    numbers = open_deliveries.aggregate(
        pending=Count("id", filter=Q(status=Delivery.Status.PENDING)),
        retrying=Count("id", filter=Q(status=Delivery.Status.RETRYING)),
        due=Count("id", filter=Q(next_attempt_at__lte=now, claimed_at__isnull=True)),
        in_flight=Count("id", filter=Q(claimed_at__isnull=False)),
        oldest_open_at=Min("created_at"),
    )
    return Backlog(**numbers)

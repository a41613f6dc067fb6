"""Taking due deliveries of one destination for one worker, safely across processes and machines.

A claim is `claimed_at`/`claimed_by` on the rows, set in a short transaction that is serialised
per destination (an advisory lock on PostgreSQL; SQLite's IMMEDIATE transactions serialise every
writer already). Serialising matters for the ordering barrier: two claimers must not both decide
that a person's next delivery is free. Every later write for a claimed row is conditional on
`claimed_by`, so a worker whose claim went stale and was taken over cannot overwrite newer state.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from delivery.models import Delivery
from destinations.models import Destination

# First key of pg_advisory_xact_lock(int, int): "cio" in ASCII, so our locks are easy to spot.
CLAIM_LOCK_NAMESPACE = 0x63696F


def new_token() -> str:
    """Unique per task run: host, process and a random part, so a restarted pid never matches."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(6)}"


def claim(destination: Destination, token: str, limit: int, now: datetime | None = None) -> list[int]:
    """Claim up to `limit` due, unclaimed deliveries of `destination` in id order; returns their ids.

    With strict ordering, a delivery waits while an earlier open delivery of the same person is
    not yet due or is claimed by anyone (the barrier of DESIGN.md invariant 4).
    """
    now = now or timezone.now()
    due = Delivery.objects.filter(
        destination_id=destination.pk,
        status__in=Delivery.OPEN,
        next_attempt_at__lte=now,
        claimed_at__isnull=True,
    )
    if destination.strict_ordering:
        due = due.filter(Q(person="") | ~Exists(_earlier_waiting(now)))
    with transaction.atomic():
        _serialise_claims(destination.pk)
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        ids = list(due.order_by("id").values_list("id", flat=True)[:limit])
        if ids:
            Delivery.objects.filter(id__in=ids, claimed_at__isnull=True).update(
                claimed_at=now, claimed_by=token
            )
    return ids


def _earlier_waiting(now: datetime):
    """The same person's earlier open deliveries that hold the later ones back."""
    return Delivery.objects.filter(
        destination_id=OuterRef("destination_id"),
        person=OuterRef("person"),
        status__in=Delivery.OPEN,
        id__lt=OuterRef("id"),
    ).filter(Q(next_attempt_at__gt=now) | Q(claimed_at__isnull=False))


def _serialise_claims(destination_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [CLAIM_LOCK_NAMESPACE, destination_id])


def release(ids: Iterable[int], token: str) -> int:
    """Give claimed deliveries back unchanged, so any worker may take them again."""
    return Delivery.objects.filter(id__in=list(ids), claimed_by=token).update(claimed_at=None, claimed_by="")


def release_stale(now: datetime | None = None) -> int:
    """Release claims older than DELIVERY_CLAIM_TIMEOUT_SECONDS: their worker died or hung."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.DELIVERY_CLAIM_TIMEOUT_SECONDS)
    return Delivery.objects.filter(status__in=Delivery.OPEN, claimed_at__lt=cutoff).update(
        claimed_at=None, claimed_by=""
    )


def destinations_with_due_work(now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    due = Delivery.objects.filter(
        destination_id=OuterRef("id"),
        status__in=Delivery.OPEN,
        next_attempt_at__lte=now,
        claimed_at__isnull=True,
    )
    return list(Destination.objects.filter(Exists(due)).values_list("id", flat=True))

"""Sending failed or filtered deliveries again, on a person's request (the admin's Replay button)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from delivery.engine import doorbell
from delivery.models import Delivery

REPLAYABLE = (Delivery.Status.FAILED, Delivery.Status.FILTERED)


def replay(delivery_ids: Iterable[int]) -> int:
    """Put the failed or filtered ones among `delivery_ids` back to pending, due now; returns how many.

    Delivered and open deliveries are left alone. The filters and the transformer run again with
    the destination's settings of that moment. replayed_at and replay_count keep a note of it; the
    earlier attempts stay in the log.
    """
    now = timezone.now()
    with transaction.atomic():
        replayable = Delivery.objects.filter(id__in=list(delivery_ids), status__in=REPLAYABLE)
        destination_ids = set(replayable.values_list("destination_id", flat=True))
        count = replayable.update(
            status=Delivery.Status.PENDING,
            next_attempt_at=now,
            attempt_count=0,
            first_attempt_at=None,
            reason="",
            finished_at=None,
            claimed_at=None,
            claimed_by="",
            replayed_at=now,
            replay_count=F("replay_count") + 1,
        )
        transaction.on_commit(lambda: doorbell.ring(destination_ids))
    return count

"""Periodic work that keeps the database the truth (DESIGN.md invariants 2 and 6).

sweep(): release claims whose worker died and ring every destination that has due work, so lost
broker messages and long retry waits only ever delay a delivery. delete_old_deliveries(): the
delivery log's retention, in batches; failed deliveries stay until a person deals with them.
delete_old_message_activity(): the same retention for what Customer.io's reporting webhooks posted.
delete_old_refusals(): the same for the ingestion API's refused requests, counted and kept as examples.
Each sweep also refreshes the deliveries table's statistics when they are out of date (claims.py).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from cio_project import metrics
from delivery.engine import claims, doorbell
from delivery.models import (
    Delivery,
    DeliveryAttempt,
    Event,
    MessageActivity,
    RefusalCount,
    RefusedRequest,
    SentRequest,
)

logger = logging.getLogger(__name__)

EXPIRED_STATUSES = (Delivery.Status.DELIVERED, Delivery.Status.FILTERED)
# A sweep's log line names this many of the destinations it rang, so it stays one short line.
LOGGED_DESTINATIONS = 10


def sweep(now: datetime | None = None) -> list[int]:
    """Release stale claims, then ring each destination with due work. Returns those destinations."""
    now = now or timezone.now()
    claims.refresh_statistics()
    released = claims.release_stale(now)
    if released:
        logger.warning("released %s stale delivery claims (their worker stopped or hung)", released)
        metrics.SWEEPER_ACTIONS.labels("stale_claims_released").inc(released)
    destination_ids = claims.destinations_with_due_work(now)
    doorbell.ring(destination_ids, force=True)
    metrics.SWEEPER_ACTIONS.labels("destinations_rung").inc(len(destination_ids))
    # Every few seconds: a line at INFO only when there was something to do.
    if destination_ids:
        logger.info(
            "sweep: rang %s destinations with due work (%s)",
            len(destination_ids),
            ", ".join(map(str, destination_ids[:LOGGED_DESTINATIONS])),
        )
    else:
        logger.debug("sweep: no due work")
    return destination_ids


def delete_old_deliveries(now: datetime | None = None) -> int:
    """Delete one batch of delivered and filtered deliveries older than DELIVERY_RETENTION_SECONDS.

    Then their events and sent requests, once no delivery refers to them. Returns how many deliveries
    were deleted; a full batch means there may be more.
    """
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.DELIVERY_RETENTION_SECONDS)
    with transaction.atomic():
        batch = list(
            Delivery.objects.filter(status__in=EXPIRED_STATUSES, created_at__lt=cutoff)
            .order_by("created_at")
            .values_list("id", "event_id")[: settings.DELIVERY_RETENTION_BATCH]
        )
        if not batch:
            return 0
        ids = [delivery_id for delivery_id, _ in batch]
        request_ids = set(
            DeliveryAttempt.objects.filter(delivery_id__in=ids).values_list("sent_request_id", flat=True)
        )
        DeliveryAttempt.objects.filter(delivery_id__in=ids).delete()
        Delivery.objects.filter(id__in=ids).delete()
        Event.objects.filter(id__in={event_id for _, event_id in batch}).exclude(
            Exists(Delivery.objects.filter(event_id=OuterRef("id")))
        ).delete()
        SentRequest.objects.filter(id__in=request_ids).exclude(
            Exists(DeliveryAttempt.objects.filter(sent_request_id=OuterRef("id")))
        ).delete()
    metrics.SWEEPER_ACTIONS.labels("deliveries_deleted").inc(len(batch))
    return len(batch)


def delete_old_message_activity(now: datetime | None = None) -> int:
    """Delete one batch of message activity received more than DELIVERY_RETENTION_SECONDS ago.

    Returns how many rows were deleted; a full batch means there may be more.
    """
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.DELIVERY_RETENTION_SECONDS)
    ids = list(
        MessageActivity.objects.filter(received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("id", flat=True)[: settings.DELIVERY_RETENTION_BATCH]
    )
    if ids:
        MessageActivity.objects.filter(id__in=ids).delete()
    return len(ids)


def delete_old_refusals(now: datetime | None = None) -> int:
    """Delete one batch of refused-request examples and one of hourly refusal counts older than
    DELIVERY_RETENTION_SECONDS. Returns the larger batch; a full batch means there may be more."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.DELIVERY_RETENTION_SECONDS)
    batch = settings.DELIVERY_RETENTION_BATCH
    # The examples are few (refused_requests keeps the newest per source and reason): no index needed.
    examples = list(
        RefusedRequest.objects.filter(received_at__lt=cutoff).values_list("id", flat=True)[:batch]
    )
    counts = list(
        RefusalCount.objects.filter(hour__lte=cutoff - timedelta(hours=1))
        .order_by("hour")
        .values_list("id", flat=True)[:batch]
    )
    if examples:
        RefusedRequest.objects.filter(id__in=examples).delete()
    if counts:
        RefusalCount.objects.filter(id__in=counts).delete()
    return max(len(examples), len(counts))

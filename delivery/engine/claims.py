"""Taking due deliveries of one destination for one worker, safely across processes and machines.

A claim is `claimed_at`/`claimed_by` on the rows, set in a short transaction that is serialised
per destination (an advisory lock on PostgreSQL; SQLite's IMMEDIATE transactions serialise every
writer already). Serialising matters for the ordering barrier: two claimers must not both decide
that a person's next delivery is free. Every later write for a claimed row is conditional on
`claimed_by`, so a worker whose claim went stale and was taken over cannot overwrite newer state.

The claim query walks a destination's open deliveries in id order and stops at the batch size, but only
if PostgreSQL's planner knows how many there are: under the statistics of an empty table, a million
deliveries stored at once were sorted whole for every claim of 500 (8 s a claim, 80 deliveries a
second), and 10,000 took O(n^2) for the ordering barrier. Autovacuum analyzes a table after
ANALYZE_THRESHOLD_ROWS + ANALYZE_SCALE_FACTOR x its rows have changed, within a minute, when it is on;
refresh_statistics() does the same, from each sweep and from a claiming process every
STATISTICS_CHECK_SECONDS, and nothing while autovacuum keeps up.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from cio_project import metrics
from delivery.models import Delivery
from destinations.models import Destination

logger = logging.getLogger(__name__)

# First key of pg_advisory_xact_lock(int, int): "cio" in ASCII, so our locks are easy to spot.
CLAIM_LOCK_NAMESPACE = 0x63696F
# Its second key for the one process at a time that analyzes the deliveries table.
ANALYZE_LOCK = 0
# PostgreSQL's autovacuum_analyze_threshold and autovacuum_analyze_scale_factor defaults.
ANALYZE_THRESHOLD_ROWS = 50
ANALYZE_SCALE_FACTOR = 0.1
STATISTICS_CHECK_SECONDS = 5.0
_statistics_checked_at = float("-inf")


def new_token() -> str:
    """Unique per task run: host, process and a random part, so a restarted pid never matches."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(6)}"


def claim(destination: Destination, token: str, limit: int, now: datetime | None = None) -> list[int]:
    """Claim up to `limit` due, unclaimed deliveries of `destination` in id order; returns their ids.

    With strict ordering, a delivery waits while an earlier open delivery of the same person is
    not yet due or is claimed by anyone (the barrier of DESIGN.md invariant 4).
    """
    _refresh_statistics_now_and_then()
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


def refresh_statistics() -> list[str]:
    """On PostgreSQL, ANALYZE the deliveries table if it changed enough since it was last analyzed (by
    anyone) and no other process is analyzing it; returns the tables analyzed. A failure (a statement
    timeout shorter than the ANALYZE, say) is logged, and the sweep or claim that asked goes on."""
    if connection.vendor != "postgresql":
        return []
    table = Delivery._meta.db_table
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                # reltuples: the rows at the last analyze (-1 before any), as autovacuum reads it.
                "SELECT n_mod_since_analyze > %s + %s * greatest(c.reltuples, 0)"
                " FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid WHERE s.relid = %s::regclass",
                [ANALYZE_THRESHOLD_ROWS, ANALYZE_SCALE_FACTOR, table],
            )
            row = cursor.fetchone()
            if not (row and row[0]):
                return []
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [CLAIM_LOCK_NAMESPACE, ANALYZE_LOCK])
            if not cursor.fetchone()[0]:
                return []  # another process is analyzing it now
            try:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
            finally:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [CLAIM_LOCK_NAMESPACE, ANALYZE_LOCK])
    except DatabaseError as error:
        logger.warning("could not refresh the statistics of %s: %s", table, error)
        return []
    logger.info("analyzed %s: its statistics were out of date", table)
    metrics.SWEEPER_ACTIONS.labels("tables_analyzed").inc()
    return [table]


def _refresh_statistics_now_and_then() -> None:
    """refresh_statistics() at most every STATISTICS_CHECK_SECONDS in this process."""
    global _statistics_checked_at
    if time.monotonic() - _statistics_checked_at >= STATISTICS_CHECK_SECONDS:
        _statistics_checked_at = time.monotonic()
        refresh_statistics()


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

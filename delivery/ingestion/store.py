"""Storing accepted events and their deliveries before the API answers (DESIGN.md invariants 1 and 11).

The one way in: the ingestion API and the event tester store through store(). rows.py decides what
is written, writer.py writes it in one transaction; the doorbell rings only after the commit, and a
repeated messageId is answered, counted on the stored row and logged, never stored twice.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from django.db import IntegrityError, transaction

from cio_project import metrics
from delivery.engine import doorbell
from delivery.ingestion import writer
from delivery.ingestion.rows import PENDING, delivery_rows, event_row, first_occurrences
from delivery.ingestion.sources import SourceRef, forget_all

logger = logging.getLogger(__name__)


def store(source: SourceRef, messages: Sequence[dict], now: datetime) -> None:
    """Store filled-in messages (in the order received) and their deliveries, or nothing at all."""
    firsts, repeats = first_occurrences(messages)
    stamp = writer.db_timestamp(now)
    events = [event_row(source.id, message, stamp, repeats[message["messageId"]]) for message in firsts]
    deliveries = delivery_rows(source, firsts, stamp)
    try:
        inserted = writer.write(events, deliveries)
    except IntegrityError:
        # A destination deleted while still cached fails the foreign key at commit: nothing was stored;
        # forget the cache so the client's retry routes with what exists now.
        forget_all()
        raise
    pending = {
        row["destination_id"]
        for row in deliveries
        if row["status"] == PENDING and row["message_id"] in inserted
    }
    if pending:
        transaction.on_commit(lambda: doorbell.ring(sorted(pending)))
    if inserted:
        transaction.on_commit(lambda: _count(source, deliveries, inserted))
    _note_duplicates(source, events, repeats, inserted, now)


def _count(source: SourceRef, deliveries: list[dict], inserted: dict) -> None:
    """For /metrics, once committed: the events stored, and the deliveries filtered at once."""
    metrics.EVENTS_ACCEPTED.labels(str(source.id)).inc(len(inserted))
    for row in deliveries:
        if row["status"] != PENDING and row["message_id"] in inserted:
            metrics.DELIVERIES_FINISHED.labels(str(row["destination_id"]), row["status"]).inc()


def _note_duplicates(
    source: SourceRef, events: list[dict], repeats: Counter, inserted: dict, now: datetime
) -> None:
    """Count repeats of events an earlier request stored on the stored row, and log every dropped one."""
    earlier = Counter(
        {
            row["message_id"]: 1 + row["duplicates_dropped"]
            for row in events
            if row["message_id"] not in inserted
        }
    )
    if earlier:
        writer.count_duplicates(source.id, earlier, now)
    duplicates = earlier + Counter({key: count for key, count in repeats.items() if key in inserted})
    for message_id, count in duplicates.items():
        logger.info(
            "dropped %d duplicate(s) of messageId %s from source %s: already stored",
            count,
            message_id,
            source.name,
        )

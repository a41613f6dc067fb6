"""A running sync's heartbeat, beaten from a thread of its own for as long as its process lives.

A run whose heartbeat is WAREHOUSE_RUN_STALE_SECONDS old is taken for dead (its process killed, its
machine lost): the next run marks it interrupted and takes over. A live run can wait far longer than that
inside one database call (a warehouse working out a large query before its first row, or counting it for
the progress bar), so the beat cannot wait for the end of a chunk. A run that was taken over all the
same is stopped by its next write (sync.Interrupted), so two runs of a source never both store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from destinations.warehouse.models import SyncRun

logger = logging.getLogger(__name__)

BEATS_PER_STALE_WINDOW = 4


@contextmanager
def beating(run_id: int) -> Iterator[None]:
    """Beat run `run_id`'s heartbeat while the block runs."""
    stop = threading.Event()
    interval = settings.WAREHOUSE_RUN_STALE_SECONDS / BEATS_PER_STALE_WINDOW
    thread = threading.Thread(
        target=_beat, args=(run_id, interval, stop), name=f"warehouse-run-{run_id}-heartbeat", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _beat(run_id: int, interval: float, stop: threading.Event) -> None:
    try:
        while not stop.wait(interval):
            try:
                SyncRun.objects.filter(pk=run_id, state=SyncRun.State.RUNNING).update(
                    heartbeat_at=timezone.now()
                )
            except DatabaseError as error:
                # The relay's database is away: the run's own next write fails too, and says why.
                logger.warning("warehouse run %s: heartbeat not written: %s", run_id, error)
                connection.close()
    finally:
        # This thread's own connection (Django opens one per thread).
        connection.close()

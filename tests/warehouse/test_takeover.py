"""One run at a time per source, whatever happens to a run: a run waiting on a slow query keeps its
heartbeat, a run taken for dead and taken over stores nothing more, a chunk is stored whole or not at
all, and sync_warehouse says in one line why a run it started broke."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection
from django.utils import timezone

from delivery.models import Delivery, Event
from delivery.warehouse import fingerprints
from delivery.warehouse.sync import AlreadyRunning, start_run, sync
from destinations.warehouse.connection import Warehouse
from destinations.warehouse.models import RowFingerprint, SyncRun
from tests.warehouse.helpers import batching_destination, make_warehouse_source

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_run_waiting_on_a_slow_query_keeps_its_heartbeat_and_is_not_taken_over(
    sqlite_warehouse, settings, monkeypatch
):
    # Given a warehouse that takes 3 s to count the query, three times the stale window
    settings.WAREHOUSE_RUN_STALE_SECONDS = 1
    sqlite_warehouse.people(5)
    source = make_warehouse_source(sqlite_warehouse.url, batching_destination())
    counting = threading.Event()
    count = Warehouse.count

    def slow_count(self: Warehouse, query: str) -> int | None:
        counting.set()
        time.sleep(3)
        return count(self, query)

    monkeypatch.setattr(Warehouse, "count", slow_count)
    # When the source syncs in another thread, and 2 s into the count something starts it again
    finished: list[SyncRun] = []
    thread = threading.Thread(target=sync_in_thread, args=(source, finished))
    thread.start()
    try:
        assert counting.wait(timeout=30)
        time.sleep(2)
        # Then the run is still alive: a second start is refused, rather than taking it for dead
        with pytest.raises(AlreadyRunning):
            start_run(source, dry_run=False)
    finally:
        thread.join(timeout=60)
    # And the first run ends as it would have
    assert [(run.state, run.rows_new) for run in finished] == [("succeeded", 5)]
    assert SyncRun.objects.count() == 1


def sync_in_thread(source, finished: list[SyncRun]) -> None:
    try:
        finished.append(sync(source))
    finally:
        connection.close()


def test_a_run_taken_over_stores_nothing_more_and_stays_interrupted(sqlite_warehouse, settings):
    # Given 30 people, read 10 a chunk
    settings.WAREHOUSE_CHUNK_ROWS = 10
    sqlite_warehouse.people(30)
    source = make_warehouse_source(sqlite_warehouse.url, batching_destination())
    taken_over: list[SyncRun] = []

    def take_over_after_the_first_chunk(run: SyncRun) -> None:
        # As another process does when this run's heartbeat looks stale (its machine was unreachable)
        if run.rows_read == 10 and not taken_over:
            SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
            taken_over.append(start_run(source, dry_run=False))

    # When the run goes on after it was taken over
    run = sync(source, progress=take_over_after_the_first_chunk)
    # Then it stored its first chunk and nothing after, and it stays as the new run marked it
    assert (run.state, run.rows_read, run.events_stored) == ("failed", 10, 10)
    assert run.error.startswith("interrupted")
    assert (Event.objects.count(), RowFingerprint.objects.count()) == (10, 10)
    assert SyncRun.objects.get(pk=run.pk).error.startswith("interrupted")
    assert SyncRun.objects.get(pk=taken_over[0].pk).state == "running"


def test_a_chunk_whose_fingerprints_cannot_be_saved_leaves_none_of_its_events(sqlite_warehouse, monkeypatch):
    # Given a relay database that fails as the first chunk's fingerprints are written
    sqlite_warehouse.people(5)
    source = make_warehouse_source(sqlite_warehouse.url, batching_destination())

    def failing_save(*args, **kwargs) -> None:
        raise DatabaseError("disk I/O error")

    monkeypatch.setattr(fingerprints, "save", failing_save)
    # When the source syncs
    with pytest.raises(DatabaseError):
        sync(source)
    # Then the chunk's events went back with its fingerprints: nothing is left to send
    assert not Event.objects.exists() and not Delivery.objects.exists()
    run = SyncRun.objects.get()
    assert (run.state, run.error, run.events_stored) == (
        "failed",
        "DatabaseError (see the log of the process that ran it)",
        0,
    )


def test_sync_warehouse_says_in_one_line_why_a_run_broke_and_exits_2(sqlite_warehouse, monkeypatch):
    # Given a relay database that fails mid-run with a message of several lines
    sqlite_warehouse.people(5)
    source = make_warehouse_source(sqlite_warehouse.url, batching_destination())

    def failing_save(*args, **kwargs) -> None:
        raise DatabaseError("could not extend file\nHINT:  Check free disk space.")

    monkeypatch.setattr(fingerprints, "save", failing_save)
    # When sync_warehouse runs
    with pytest.raises(CommandError) as raised:
        call_command("sync_warehouse", source.name)
    # Then it exits 2 with one line that says what broke, and the run is failed
    assert raised.value.returncode == 2
    assert str(raised.value) == (
        "sync of 'crm people' failed: DatabaseError: could not extend file HINT: Check free disk space."
    )
    assert SyncRun.objects.get().state == "failed"

"""The sweeper (stale claims, due work), retention of the delivery log, and replay."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from delivery.engine import claims, replay, sweeper
from delivery.models import Delivery, DeliveryAttempt, Event, SentRequest
from tests.support.factories import make_delivery, make_destination, reload, track

pytestmark = pytest.mark.django_db(transaction=True)


def attempt_for(*deliveries: Delivery) -> SentRequest:
    attempt = SentRequest.objects.create(
        destination=deliveries[0].destination, started_at=timezone.now(), method="POST", url="u"
    )
    for delivery in deliveries:
        DeliveryAttempt.objects.create(delivery=delivery, sent_request=attempt, outcome=delivery.status)
    return attempt


def test_sweep_releases_stale_claims_and_rings_destinations_with_due_work(rings, settings):
    settings.DELIVERY_CLAIM_TIMEOUT_SECONDS = 30
    stale, waiting, idle = make_destination(), make_destination(), make_destination()
    long_ago = timezone.now() - timedelta(minutes=5)
    orphan = make_delivery(stale, track("a", "E"), claimed_at=long_ago, claimed_by="dead-worker")
    make_delivery(waiting, track("a", "E"), next_attempt_at=timezone.now() + timedelta(hours=1))
    make_delivery(idle, track("a", "E"), status=Delivery.Status.DELIVERED)
    assert sweeper.sweep() == [stale.pk]
    assert reload(orphan).claimed_by == ""
    assert rings == [[stale.pk]] and rings.forced == [True]


def test_a_sweep_logs_at_info_only_when_it_found_work(rings, caplog):
    # Given nothing due
    destination = make_destination()
    caplog.set_level(logging.DEBUG, logger="delivery.engine.sweeper")
    # When the sweep runs, then it says so at DEBUG only
    assert sweeper.sweep() == []
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [(logging.DEBUG, "sweep: no due work")]
    caplog.clear()
    # Given a delivery due for this destination, when the sweep runs again
    make_delivery(destination, track("a", "E"))
    assert sweeper.sweep() == [destination.pk]
    # Then one INFO line names the destination it rang
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.INFO, f"sweep: rang 1 destinations with due work ({destination.pk})")
    ]


def test_retention_deletes_old_delivered_and_filtered_deliveries_with_what_only_they_use(settings):
    # Given old deliveries in every terminal state, and one event shared with a failed delivery
    settings.DELIVERY_RETENTION_SECONDS = 30 * 24 * 3600
    settings.DELIVERY_RETENTION_BATCH = 100
    destination, other = make_destination(), make_destination()
    old = timezone.now() - timedelta(days=31)
    delivered = make_delivery(destination, track("a", "E"), received=old, status=Delivery.Status.DELIVERED)
    filtered = make_delivery(destination, track("b", "E"), received=old, status=Delivery.Status.FILTERED)
    failed = make_delivery(destination, track("c", "E"), received=old, status=Delivery.Status.FAILED)
    recent = make_delivery(destination, track("d", "E"), status=Delivery.Status.DELIVERED)
    shared = Delivery.objects.create(
        event=delivered.event,
        destination=other,
        source=delivered.source,
        person="a",
        status=Delivery.Status.FAILED,
        next_attempt_at=old,
        created_at=old,
    )
    only_delivered = attempt_for(delivered)
    batch_with_failed = attempt_for(filtered, failed)
    # When retention runs
    assert sweeper.delete_old_deliveries() == 2
    # Then the old delivered and filtered ones are gone, failed and recent ones stay
    assert set(Delivery.objects.values_list("id", flat=True)) == {failed.pk, recent.pk, shared.pk}
    # And an event or attempt goes only when nothing refers to it any more
    assert set(Event.objects.values_list("id", flat=True)) == {
        delivered.event_id,
        failed.event_id,
        recent.event_id,
    }
    assert set(SentRequest.objects.values_list("id", flat=True)) == {batch_with_failed.pk}
    assert not SentRequest.objects.filter(pk=only_delivered.pk).exists()
    assert sweeper.delete_old_deliveries() == 0


def test_retention_works_in_batches(settings):
    settings.DELIVERY_RETENTION_BATCH = 2
    destination = make_destination()
    old = timezone.now() - timedelta(days=31)
    for index in range(5):
        make_delivery(destination, track(f"p{index}", "E"), received=old, status=Delivery.Status.DELIVERED)
    assert [sweeper.delete_old_deliveries() for _ in range(4)] == [2, 2, 1, 0]


def test_replay_puts_failed_and_filtered_deliveries_back_and_leaves_the_rest(rings):
    destination = make_destination()
    finished = timezone.now() - timedelta(hours=1)
    failed = make_delivery(
        destination,
        track("a", "E"),
        status=Delivery.Status.FAILED,
        attempt_count=4,
        first_attempt_at=finished,
        reason="Customer.io answered 400",
        finished_at=finished,
    )
    filtered = make_delivery(destination, track("b", "E"), status=Delivery.Status.FILTERED, reason="Filtered")
    delivered = make_delivery(destination, track("c", "E"), status=Delivery.Status.DELIVERED)
    pending = make_delivery(destination, track("d", "E"))
    count = replay.replay([failed.pk, filtered.pk, delivered.pk, pending.pk], by="kim")
    assert count == 2
    again = reload(failed)
    assert (again.status, again.reason, again.finished_at) == ("pending", "", None)
    # The attempts of every run stay counted; the new run, which the retry horizon reads, starts empty
    assert (again.attempt_count, again.first_attempt_at) == (4, finished)
    assert (again.run_attempt_count, again.run_first_attempt_at) == (0, None)
    assert again.replays == [{"at": again.replayed_at.isoformat(), "by": "kim"}]
    assert again.replay_count == 1 and again.replayed_at is not None
    assert again.next_attempt_at <= timezone.now()
    assert reload(filtered).status == "pending"
    assert reload(delivered).status == "delivered"
    assert reload(pending).replay_count == 0
    assert rings == [[destination.pk]] and rings.forced == [False]


def test_backlog_counts_what_is_still_open():
    from delivery.admin.backlog import backlog

    destination = make_destination()
    old = timezone.now() - timedelta(minutes=3)
    make_delivery(destination, track("a", "E"), received=old)
    make_delivery(destination, track("b", "E"), claimed_at=timezone.now(), claimed_by="w")
    make_delivery(
        destination,
        track("c", "E"),
        status=Delivery.Status.RETRYING,
        next_attempt_at=timezone.now() + timedelta(minutes=1),
    )
    make_delivery(destination, track("d", "E"), status=Delivery.Status.DELIVERED)
    numbers = backlog(destination.pk)
    assert (numbers.pending, numbers.retrying, numbers.due, numbers.in_flight) == (2, 1, 1, 1)
    assert numbers.oldest_open_at == old


def _planner_rows(table: str) -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        # Counters reach pg_stat_user_tables when a transaction ends: make this one's reach it now.
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        return cursor.fetchone()[0]


@pytest.mark.services
@pytest.mark.parametrize("by", ["sweep", "claim"])
def test_a_sudden_backlog_gets_fresh_statistics_from_a_sweep_or_a_claim(rings, monkeypatch, by):
    # The claim query walks the open deliveries in id order only if the planner knows there are many.
    from django.db import connection

    table = Delivery._meta.db_table
    destination = make_destination()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
    _planner_rows(table)
    assert claims.refresh_statistics() == []  # just analyzed: nothing to do
    for index in range(120):
        make_delivery(destination, track(f"p{index}", "Backlog"))
    assert _planner_rows(table) < 120
    if by == "sweep":
        sweeper.sweep()
    else:
        monkeypatch.setattr(claims, "_statistics_checked_at", float("-inf"))
        assert len(claims.claim(destination, "token", 500)) == 120
    assert _planner_rows(table) >= 120
    if by == "sweep":
        assert claims.refresh_statistics() == []  # fresh again (a claim changes the rows it claims)


@pytest.mark.services
def test_a_claim_looks_at_the_statistics_at_most_every_few_seconds(monkeypatch):
    looked = []
    monkeypatch.setattr(claims, "refresh_statistics", lambda: looked.append(1) or [])
    monkeypatch.setattr(claims, "_statistics_checked_at", float("-inf"))
    destination = make_destination()
    for _ in range(3):
        claims.claim(destination, "token", 10)
    assert looked == [1]


@pytest.mark.services
def test_a_sweep_goes_on_when_the_statistics_cannot_be_refreshed(rings, caplog):
    import psycopg
    from django.db import connection

    table = Delivery._meta.db_table
    destination = make_destination()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
    stale = timezone.now() - timedelta(hours=2)
    for index in range(120):
        make_delivery(destination, track(f"p{index}", "Backlog"), claimed_at=stale, claimed_by="gone")
    _planner_rows(table)
    # Given another session holding the lock ANALYZE needs (an ANALYZE or VACUUM of its own, say), and
    # a lock timeout on the relay's database user
    settings_dict = connection.settings_dict
    blocker = psycopg.connect(
        host=settings_dict["HOST"], port=settings_dict["PORT"], user=settings_dict["USER"],
        dbname=settings_dict["NAME"],
    )  # fmt: skip
    blocker.execute(f"LOCK TABLE {table} IN SHARE UPDATE EXCLUSIVE MODE")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
        with caplog.at_level(logging.WARNING):
            # Then the refresh fails, saying so
            assert claims.refresh_statistics() == []
        assert f"could not refresh the statistics of {table}" in caplog.text
        # And the sweep still releases the stale claims and rings
        assert sweeper.sweep() == [destination.pk]
        assert not Delivery.objects.filter(claimed_by="gone").exists()
    finally:
        blocker.rollback()
        blocker.close()
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")

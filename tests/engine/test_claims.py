"""Claims: due work in id order, the per-person barrier, stale claims, and no row claimed twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from delivery.engine import claims
from delivery.models import Delivery
from tests.support.factories import identify, make_delivery, make_destination, reload, track

pytestmark = pytest.mark.django_db(transaction=True)


def test_claims_due_unclaimed_open_deliveries_in_id_order():
    # Given deliveries in every state
    destination = make_destination()
    later = timezone.now() + timedelta(minutes=5)
    due = [make_delivery(destination, track(f"p{index}", "E")) for index in range(3)]
    make_delivery(destination, track("q", "E"), next_attempt_at=later)
    make_delivery(destination, track("r", "E"), status=Delivery.Status.DELIVERED)
    make_delivery(destination, track("s", "E"), claimed_at=timezone.now(), claimed_by="other")
    make_delivery(make_destination(), track("t", "E"))
    # When a worker claims
    ids = claims.claim(destination, "me", limit=10)
    # Then it gets exactly the due, unclaimed, open ones of this destination, marked as its own
    assert ids == [delivery.pk for delivery in due]
    assert all(reload(delivery).claimed_by == "me" for delivery in due)


def test_a_persons_later_deliveries_wait_behind_one_waiting_for_a_retry():
    # Given ann's first delivery waits for a retry, and bob has nothing waiting
    destination = make_destination()
    later = timezone.now() + timedelta(minutes=5)
    make_delivery(destination, identify("ann"), status=Delivery.Status.RETRYING, next_attempt_at=later)
    ann_next = make_delivery(destination, track("ann", "Second"))
    bob = make_delivery(destination, track("bob", "First"))
    # When a worker claims, then ann's retry is claimed by someone else
    assert claims.claim(destination, "me", limit=10) == [bob.pk]
    # Then ann's later delivery flows once nothing earlier of hers is waiting
    Delivery.objects.filter(person="ann", status=Delivery.Status.RETRYING).update(
        status=Delivery.Status.DELIVERED
    )
    assert claims.claim(destination, "me", limit=10) == [ann_next.pk]


def test_a_claimed_earlier_delivery_holds_the_same_persons_later_ones():
    destination = make_destination()
    first = make_delivery(destination, track("ann", "First"))
    second = make_delivery(destination, track("ann", "Second"))
    assert claims.claim(destination, "one", limit=1) == [first.pk]
    assert claims.claim(destination, "two", limit=10) == []
    claims.release([first.pk], "one")
    assert claims.claim(destination, "two", limit=10) == [first.pk, second.pk]


def test_without_strict_ordering_later_deliveries_flow_around_a_retry():
    destination = make_destination(strict_ordering=False)
    later = timezone.now() + timedelta(minutes=5)
    make_delivery(destination, identify("ann"), status=Delivery.Status.RETRYING, next_attempt_at=later)
    ann_next = make_delivery(destination, track("ann", "Second"))
    assert claims.claim(destination, "me", limit=10) == [ann_next.pk]


def test_deliveries_without_a_person_are_not_ordered_against_each_other():
    destination = make_destination()
    make_delivery(destination, {"type": "track", "event": "x"}, person="", claimed_at=timezone.now())
    free = make_delivery(destination, {"type": "track", "event": "y"}, person="")
    assert claims.claim(destination, "me", limit=10) == [free.pk]


def test_release_only_touches_the_callers_own_claims():
    destination = make_destination()
    delivery = make_delivery(destination, track("ann", "E"))
    claims.claim(destination, "me", limit=10)
    assert claims.release([delivery.pk], "someone-else") == 0
    assert claims.release([delivery.pk], "me") == 1
    assert reload(delivery).claimed_at is None


def test_stale_claims_are_released_and_fresh_ones_kept(settings):
    settings.DELIVERY_CLAIM_TIMEOUT_SECONDS = 600
    destination = make_destination()
    now = timezone.now()
    stale = make_delivery(
        destination, track("a", "E"), claimed_at=now - timedelta(minutes=11), claimed_by="dead"
    )
    fresh = make_delivery(
        destination, track("b", "E"), claimed_at=now - timedelta(minutes=1), claimed_by="busy"
    )
    assert claims.release_stale(now) == 1
    assert reload(stale).claimed_by == ""
    assert reload(fresh).claimed_by == "busy"


def test_destinations_with_due_work_lists_only_those_with_due_unclaimed_work():
    busy, idle, waiting = make_destination(), make_destination(), make_destination()
    make_delivery(busy, track("a", "E"))
    make_delivery(waiting, track("a", "E"), next_attempt_at=timezone.now() + timedelta(minutes=1))
    make_delivery(idle, track("a", "E"), status=Delivery.Status.DELIVERED)
    assert claims.destinations_with_due_work() == [busy.pk]


@pytest.mark.services
def test_concurrent_claimers_never_get_the_same_delivery_nor_break_the_barrier():
    # Given many people's deliveries, several each
    destination = make_destination()
    for index in range(400):
        make_delivery(destination, track(f"person-{index % 40}", f"E{index}"))
    claimed: dict[str, list[int]] = {}
    barrier = threading.Barrier(8)

    def claimer(name: str) -> None:
        barrier.wait()
        mine = claimed.setdefault(name, [])
        try:
            for _ in range(20):
                mine.extend(claims.claim(destination, name, limit=7))
        finally:
            connection.close()

    # When eight threads claim at once, each on its own PostgreSQL connection
    threads = [threading.Thread(target=claimer, args=(f"worker-{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then no delivery went to two claimers, and every row's claim names the one that got it
    everything = [delivery_id for ids in claimed.values() for delivery_id in ids]
    assert len(everything) == len(set(everything))
    for name, ids in claimed.items():
        assert set(Delivery.objects.filter(claimed_by=name).values_list("id", flat=True)) == set(ids)
    # And no person has deliveries held by two claimers at once (the barrier held)
    holders: dict[str, set[str]] = {}
    for person, holder in Delivery.objects.exclude(claimed_by="").values_list("person", "claimed_by"):
        holders.setdefault(person, set()).add(holder)
    assert all(len(names) == 1 for names in holders.values())

"""The shared rate limiter: slots 1/rate apart for every worker, holds after a 429, bounded waits."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from django.db import connection

from delivery.engine.ratelimit import limiter
from delivery.redis_client import redis_client
from tests.support.factories import make_destination

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def destination_id():
    destination = make_destination()
    client = redis_client()
    if client is not None:
        client.delete(f"cio-relay:rate:{destination.pk}")
    return destination.pk


def test_reservations_are_spaced_one_slot_apart(destination_id):
    shared = limiter()
    waits = [shared.reserve(destination_id, per_second=10, max_wait=5) for _ in range(5)]
    # The first goes at once; each next one a tenth of a second after the one before.
    assert waits[0] == pytest.approx(0, abs=0.05)
    for earlier, later in itertools.pairwise(waits):
        assert later - earlier == pytest.approx(0.1, abs=0.05)


def test_a_reservation_that_would_wait_too_long_is_refused_and_reserves_nothing(destination_id):
    shared = limiter()
    for _ in range(3):
        shared.reserve(destination_id, per_second=1, max_wait=5)
    assert shared.reserve(destination_id, per_second=1, max_wait=1.5) is None
    assert shared.delay(destination_id) == pytest.approx(3, abs=0.2)


def test_a_hold_pushes_every_reservation_back(destination_id):
    shared = limiter()
    shared.hold(destination_id, 2.0)
    assert shared.delay(destination_id) == pytest.approx(2, abs=0.2)
    assert shared.reserve(destination_id, per_second=100, max_wait=5) == pytest.approx(2, abs=0.2)
    assert shared.reserve(destination_id, per_second=100, max_wait=1) is None


def test_workers_in_parallel_share_one_rate(destination_id):
    # Given four workers reserving 25 slots each at 100 per second
    slots: list[tuple[float, float]] = []
    lock = threading.Lock()

    def worker() -> None:
        shared = limiter()
        try:
            for _ in range(25):
                before = time.time()
                wait = shared.reserve(destination_id, per_second=100, max_wait=10)
                after = time.time()
                with lock:
                    # The slot is `wait` after the limiter's clock, read somewhere between the two
                    # (a commit that checkpoints SQLite's log can take a loaded machine half a second).
                    slots.append((before + wait, after + wait))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then the hundred slots span 99 hundredths of a second, whoever took them (give or take the
    # few milliseconds between the limiter's clock and ours): the span lies within what the bounds
    # allow; four limiters of their own would have spanned a quarter of it
    assert len(slots) == 100
    shortest = max(low for low, _ in slots) - min(high for _, high in slots)
    longest = max(high for _, high in slots) - min(low for low, _ in slots)
    assert shortest - 0.03 <= 0.99 <= longest + 0.03

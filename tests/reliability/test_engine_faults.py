"""The engine in this process, with one part of its surroundings failing mid-claim."""

from __future__ import annotations

import contextlib
from collections import Counter

import pytest
import redis

from delivery.engine import loop as engine
from delivery.engine.ratelimit import RateLimiter
from delivery.models import Delivery
from tests.support.factories import make_delivery, make_destination, track

pytestmark = pytest.mark.django_db(transaction=True)


class VanishingLimiter:
    """Grants `grants` slots, then fails as the Redis limiter does when Redis goes away."""

    def __init__(self, inner: RateLimiter, grants: int) -> None:
        self.inner, self.grants = inner, grants

    def reserve(self, destination_id: int, per_second: float, max_wait: float) -> float | None:
        if self.grants <= 0:
            raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        self.grants -= 1
        return self.inner.reserve(destination_id, per_second, max_wait)

    def hold(self, destination_id: int, seconds: float) -> None:
        self.inner.hold(destination_id, seconds)

    def delay(self, destination_id: int) -> float:
        return self.inner.delay(destination_id)


def test_a_rate_limiter_failing_mid_claim_sends_nothing_twice(fake, monkeypatch):
    # Given ten people's events, a slow Customer.io, and a rate limiter that fails after four slots
    destination = make_destination()
    for index in range(10):
        make_delivery(destination, track(f"p{index}", "Order"))
    fake.answer(200, delay=0.3)
    real = engine.limiter
    monkeypatch.setattr(engine, "limiter", lambda: VanishingLimiter(real(), grants=4))
    # When the engine runs into the failure (its task may fail), and runs again once the limiter is back
    with contextlib.suppress(redis.ConnectionError):
        engine.deliver_due(destination.pk)
    monkeypatch.setattr(engine, "limiter", real)
    engine.deliver_due(destination.pk)
    # Then the four requests sent before the failure were recorded, not sent again
    received = Counter(request.path for request in fake.requests())
    assert sorted(received.values()) == [1] * 10
    assert Delivery.objects.filter(status="delivered").count() == 10


class HoldlessLimiter(VanishingLimiter):
    """Grants every slot, but fails to hold the destination back, as when Redis goes away after a 429."""

    def hold(self, destination_id: int, seconds: float) -> None:
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_a_429_while_the_limiter_is_down_sends_nothing_twice(fake, monkeypatch, settings):
    # Given ten people's events, a Customer.io that throttles the first request, and a limiter that
    # cannot hold the destination back
    settings.DELIVERY_RETRY_BASE_SECONDS = settings.DELIVERY_RETRY_MAX_SECONDS = 0.01
    destination = make_destination()
    for index in range(10):
        make_delivery(destination, track(f"p{index}", "Order"))
    fake.answer(200, delay=0.2)
    fake.answer(429, headers={"Retry-After": "0"}, times=1)  # the newest rule answers first
    real = engine.limiter
    monkeypatch.setattr(engine, "limiter", lambda: HoldlessLimiter(real(), grants=1_000))
    # When the engine runs, then runs again once the throttled delivery is due
    engine.deliver_due(destination.pk)
    monkeypatch.setattr(engine, "limiter", real)
    engine.deliver_due(destination.pk)
    # Then every event was accepted exactly once, the throttled one on its retry
    accepted = Counter(request.path for request in fake.requests(status=200))
    assert sorted(accepted.values()) == [1] * 10
    assert len(fake.requests(status=429)) == 1
    assert Delivery.objects.filter(status="delivered").count() == 10

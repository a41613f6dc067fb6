"""The retry policy: exponential backoff with jitter, Retry-After, and when to give up."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from delivery.engine.retry import backoff, next_attempt_at

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def default_backoff(settings):
    settings.DELIVERY_RETRY_BASE_SECONDS = 10.0
    settings.DELIVERY_RETRY_MAX_SECONDS = 300.0


@pytest.mark.parametrize(("attempts", "centre"), [(1, 10), (2, 20), (3, 40), (4, 80), (5, 160)])
def test_waits_double_from_ten_seconds_within_twenty_percent_jitter(attempts, centre):
    waits = [backoff(attempts, random.Random(seed)) for seed in range(200)]
    assert all(centre * 0.8 <= wait <= centre * 1.2 for wait in waits)
    assert max(waits) - min(waits) > centre * 0.2  # actually jittered


@pytest.mark.parametrize("attempts", [6, 7, 20, 1000])
def test_waits_are_capped_at_five_minutes(attempts):
    waits = [backoff(attempts, random.Random(seed)) for seed in range(100)]
    assert all(240 <= wait <= 300 for wait in waits)


def test_retry_after_is_a_floor_for_the_wait():
    due = next_attempt_at(
        attempts=1, first_attempt_at=NOW, now=NOW, horizon=timedelta(hours=3), retry_after=120
    )
    assert due == NOW + timedelta(seconds=120)


def test_gives_up_once_past_the_horizon_with_three_attempts():
    first = NOW - timedelta(hours=3)
    assert next_attempt_at(attempts=3, first_attempt_at=first, now=NOW, horizon=timedelta(hours=3)) is None


def test_never_gives_up_before_three_attempts_even_past_the_horizon():
    first = NOW - timedelta(hours=5)
    due = next_attempt_at(attempts=2, first_attempt_at=first, now=NOW, horizon=timedelta(seconds=1))
    assert due is not None and due > NOW


def test_keeps_retrying_within_the_horizon():
    first = NOW - timedelta(hours=1)
    due = next_attempt_at(attempts=10, first_attempt_at=first, now=NOW, horizon=timedelta(hours=3))
    assert NOW + timedelta(seconds=240) <= due <= NOW + timedelta(seconds=300)

"""When to try a delivery again, and when to stop trying (DESIGN.md invariants 5 and 6).

The wait lives in Delivery.next_attempt_at, never in a broker countdown: the sweeper and the
claim query pick the delivery up again when it is due.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.conf import settings

# Never give up before this many attempts, however short the destination's horizon.
MIN_ATTEMPTS = 3
# Each wait is spread by up to this fraction either way, so retries of one outage do not
# return in lockstep.
JITTER = 0.2
# 2**30 times any base is past every cap; keeps the power from growing without bound.
MAX_EXPONENT = 30


def backoff(attempts: int, rng: random.Random | None = None) -> float:
    """Seconds before attempt `attempts + 1`: DELIVERY_RETRY_BASE_SECONDS doubling, capped, with jitter."""
    cap = settings.DELIVERY_RETRY_MAX_SECONDS
    delay = min(settings.DELIVERY_RETRY_BASE_SECONDS * 2 ** min(max(attempts - 1, 0), MAX_EXPONENT), cap)
    return min(delay * (rng or random).uniform(1 - JITTER, 1 + JITTER), cap)


def next_attempt_at(
    *,
    attempts: int,
    first_attempt_at: datetime,
    now: datetime,
    horizon: timedelta,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> datetime | None:
    """When to try again after `attempts` attempts, or None to give up.

    The wait is at least Retry-After when Customer.io sent one. Giving up needs both: the retry
    would land past first_attempt_at + horizon, and MIN_ATTEMPTS attempts were made.
    """
    wait = backoff(attempts, rng)
    if retry_after is not None:
        wait = max(wait, retry_after)
    due = now + timedelta(seconds=wait)
    if attempts >= MIN_ATTEMPTS and due > first_attempt_at + horizon:
        return None
    return due

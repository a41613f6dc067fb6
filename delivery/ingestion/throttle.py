"""Requests per second per write key (INGESTION_RATE_LIMIT_PER_SECOND; 0, the default, is off).

A fixed one-second window. When Redis is the broker the count lives there, so the limit holds across
every server process and machine. With the embedded broker (or while Redis does not answer) each
server process counts on its own, so N processes allow up to N times the limit.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from delivery.redis_client import redis_client

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 1

_local_counts: dict[int, tuple[int, int]] = {}
_lock = threading.Lock()


def _count_locally(source_id: int, window: int) -> int:
    with _lock:
        seen_window, count = _local_counts.get(source_id, (window, 0))
        count = count + 1 if seen_window == window else 1
        _local_counts[source_id] = (window, count)
        return count


def _count(source_id: int, window: int) -> int:
    client = redis_client()
    if client is None:
        return _count_locally(source_id, window)
    key = f"cio-relay:ratelimit:{source_id}:{window}"
    try:
        pipeline = client.pipeline(transaction=False)
        pipeline.incr(key)
        pipeline.expire(key, WINDOW_SECONDS * 2)
        count, _ = pipeline.execute()
        return int(count)
    except Exception as error:  # redis-py raises several types; keep accepting events meanwhile
        logger.warning("rate limit: Redis unavailable, counting in this process: %s", error)
        return _count_locally(source_id, window)


class WriteKeyRateThrottle(BaseThrottle):
    def allow_request(self, request: Request, view: object) -> bool:
        limit = settings.INGESTION_RATE_LIMIT_PER_SECOND
        if not limit:
            return True
        return _count(request.user.id, int(time.time()) // WINDOW_SECONDS) <= limit

    def wait(self) -> float:
        return float(WINDOW_SECONDS)

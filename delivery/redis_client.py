"""State that every web and worker process must see: Redis when it is the broker, else nothing.

With the embedded broker there is one machine and no Redis; callers fall back to the database or
to doing without (each caller says which).
"""

from __future__ import annotations

from functools import cache

import redis
from django.conf import settings


@cache
def redis_client() -> redis.Redis | None:
    if settings.CELERY_EMBEDDED_BROKER:
        return None
    return redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=5, socket_connect_timeout=5)

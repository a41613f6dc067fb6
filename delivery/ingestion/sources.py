"""Finding the source behind a write key, cached in-process for a few seconds.

The hot path must not query the database per request for what rarely changes, so a source and its
connected, enabled destinations are kept for INGESTION_AUTH_CACHE_SECONDS. Disabling a source or a
destination, connecting one, or rotating a key takes effect within that time. Unknown keys are
cached too, so a client hammering with a wrong key costs no queries; the cache is bounded.
"""

from __future__ import annotations

import hmac
import threading
import time
from dataclasses import dataclass

from django.conf import settings

from destinations import crypto
from destinations.models import Source

MAX_CACHED_KEYS = 10_000


@dataclass(frozen=True)
class DestinationRef:
    id: int
    name: str


@dataclass(frozen=True)
class SourceRef:
    """What ingestion needs of a source: a snapshot, never the write key."""

    id: int
    name: str
    enabled: bool
    destinations: tuple[DestinationRef, ...]
    # Empty: browsers may send from any origin.
    allowed_origins: frozenset[str] = frozenset()

    # DRF stores the authenticated principal as request.user and asks it this.
    is_authenticated = True


_cache: dict[str, tuple[float, SourceRef | None]] = {}
_lock = threading.Lock()


def find_source(write_key: str) -> SourceRef | None:
    """The source whose write key this is, or None. May raise a database error."""
    key_digest = crypto.digest(write_key)
    now = time.monotonic()
    cached = _cache.get(key_digest)
    if cached is not None and cached[0] > now:
        return cached[1]
    source = _load(write_key, key_digest)
    with _lock:
        if len(_cache) >= MAX_CACHED_KEYS:
            _cache.clear()
        _cache[key_digest] = (now + settings.INGESTION_AUTH_CACHE_SECONDS, source)
    return source


def forget_all() -> None:
    """Drop every cached lookup: the next request of each key reads the database again."""
    with _lock:
        _cache.clear()


def _load(write_key: str, key_digest: str) -> SourceRef | None:
    source = Source.objects.filter(write_key_digest=key_digest).first()
    # The digest finds the row; the decrypted key is still compared, in constant time.
    if source is None or not hmac.compare_digest(source.write_key.encode(), write_key.encode()):
        return None
    destinations = source.destinations.filter(enabled=True).order_by("id").values_list("id", "name")
    return SourceRef(
        id=source.id,
        name=source.name,
        enabled=source.enabled,
        destinations=tuple(DestinationRef(id=pk, name=name) for pk, name in destinations),
        allowed_origins=frozenset(source.allowed_origins),
    )

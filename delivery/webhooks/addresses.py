"""Which destination a webhook address belongs to, and the key its posts must be signed with.

Customer.io posts one request per message event, so a busy workspace posts hundreds a second: each
process remembers an address for CIO_WEBHOOK_ADDRESS_CACHE_SECONDS instead of asking the database
every time. A rotated address or a changed signing key therefore takes effect within that time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings

from destinations.models import Destination

# More addresses than any installation has destinations; past it the memory starts again empty.
MAX_REMEMBERED = 10_000


@dataclass(frozen=True)
class Address:
    destination_id: int
    signing_key: str
    expires_at: float


_remembered: dict[str, Address] = {}
_lock = threading.Lock()


def find(token: str) -> Address | None:
    """The destination whose reporting webhook address ends in `token`, or None."""
    now = time.monotonic()
    with _lock:
        address = _remembered.get(token)
    if address is not None and address.expires_at > now:
        return address
    row = Destination.objects.filter(webhook_token=token).values_list("pk", "webhook_signing_key").first()
    if row is None:
        return None
    address = Address(row[0], row[1], now + settings.CIO_WEBHOOK_ADDRESS_CACHE_SECONDS)
    with _lock:
        if len(_remembered) >= MAX_REMEMBERED:
            _remembered.clear()
        _remembered[token] = address
    return address


def forget_all() -> None:
    """Drop what this process remembers (tests, and a change made in this process)."""
    with _lock:
        _remembered.clear()

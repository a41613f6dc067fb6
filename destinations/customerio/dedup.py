"""De-duplication ids: Customer.io counts events that carry the same `id` once.

Reference: https://docs.customer.io/integrations/api/track/#operation/track (the `id` field, a ULID).
The id is a ULID whose time is the event's time and whose 80 "random" bits are the start of the
SHA-256 of the messageId, so a retried or replayed message always gets the same id.
"""

from __future__ import annotations

from hashlib import sha256
from typing import Any

from destinations.customerio.message import present, scalar, text

_CROCKFORD_BASE32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ULID_TIME_LIMIT = 1 << 48  # milliseconds; a ULID cannot hold times before 1970 or after 10889


def event_id(message: dict[str, Any], event_millis: int | None) -> str | None:
    """The event's ULID, or None when it has no messageId or no time to derive one from."""
    message_id = message.get("messageId")
    if not present(message_id) or event_millis is None or not 0 <= event_millis < _ULID_TIME_LIMIT:
        return None
    key = text(scalar("messageId", message_id)).encode(errors="surrogatepass")
    value = event_millis << 80 | int.from_bytes(sha256(key).digest()[:10], "big")
    return "".join(_CROCKFORD_BASE32[(value >> shift) & 31] for shift in range(125, -1, -5))

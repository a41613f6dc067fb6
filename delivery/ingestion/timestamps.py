"""The event's time, as Segment and RudderStack fill it in.

Live events are corrected for the client's clock: timestamp = receivedAt - (sentAt - originalTimestamp).
The server SDKs send the call's time as `timestamp` (not `originalTimestamp`), so that stands in for
it, as Segment does; the client's value is kept in `originalTimestamp`. Imported (historical) events
keep the client's `timestamp` untouched.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from destinations.customerio.dates import read_millis

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse(value: Any) -> datetime | None:
    """A date in any form the transformer reads (ISO-8601, "2024-05-01 12:30:15", "2024/05/01", RFC 2822,
    unix seconds or milliseconds) as an aware UTC datetime (naive means UTC), or None."""
    millis = read_millis(value)
    if millis is None:
        return None
    try:
        return _EPOCH + timedelta(milliseconds=millis)
    except OverflowError:  # beyond Python's years 1 to 9999, which JavaScript's dates reach
        return None


def iso(moment: datetime) -> str:
    """RFC 3339 with milliseconds and Z, the format RudderStack writes."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def corrected(received_at: datetime, sent_at: datetime | None, original: datetime | None) -> datetime:
    if original is None:
        return received_at
    if sent_at is None:
        return original
    try:
        return received_at - (sent_at - original)
    except OverflowError:
        return original


def fill_timestamps(message: dict, received_at: datetime, historical: bool) -> None:
    client_timestamp = message.get("timestamp")
    original = parse(message.get("originalTimestamp")) or parse(client_timestamp)
    if historical:
        if parse(client_timestamp) is None:
            message["timestamp"] = iso(original or received_at)
        return
    if "originalTimestamp" not in message and client_timestamp is not None:
        message["originalTimestamp"] = client_timestamp
    message["timestamp"] = iso(corrected(received_at, parse(message.get("sentAt")), original))

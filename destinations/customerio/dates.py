"""ISO-8601 dates to unix time, which is the only date form Customer.io understands.

Accepted: a date (2024-05-01), optionally with a time (T12:30, T12:30:15, any number of fractional
digits) and an offset (Z, +05:30, -0800). A time without an offset is UTC, as on a server running in
UTC. Anything else is not a date. Years before 1970 give negative times.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:(Z)|([+-])(\d{2}):?(\d{2}))?)?",
    re.ASCII,
)
_EPOCH = date(1970, 1, 1).toordinal()


def unix_millis(value: str) -> int | None:
    """Milliseconds since 1970 (floored), or None if `value` is not an ISO-8601 date."""
    match = _ISO.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, _, sign, off_hours, off_minutes = match.groups()
    try:
        days = date(int(year), int(month), int(day)).toordinal() - _EPOCH
    except ValueError:
        return None
    clock = (int(hour or 0), int(minute or 0), int(second or 0))
    offset = (int(off_hours or 0), int(off_minutes or 0))
    if clock[0] > 23 or clock[1] > 59 or clock[2] > 59 or offset[0] > 23 or offset[1] > 59:
        return None
    seconds = days * 86400 + clock[0] * 3600 + clock[1] * 60 + clock[2]
    offset_seconds = offset[0] * 3600 + offset[1] * 60
    seconds += offset_seconds if sign == "-" else -offset_seconds
    millis = int((fraction or "0")[:3].ljust(3, "0"))
    return seconds * 1000 + millis


def unix_seconds(value: str) -> int | None:
    millis = unix_millis(value)
    return None if millis is None else millis // 1000


def convert_dates(value: Any) -> Any:
    """A copy of `value` with every ISO-8601 string, at any depth, turned into unix seconds."""
    if isinstance(value, str):
        seconds = unix_seconds(value) if len(value) >= 10 and value[4] == "-" else None
        return value if seconds is None else seconds
    if isinstance(value, dict):
        return {key: convert_dates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [convert_dates(item) for item in value]
    return value

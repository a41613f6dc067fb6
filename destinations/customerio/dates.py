"""ISO-8601 dates to unix time, which is the only date form Customer.io understands.

Accepted: a date (2024-05-01), optionally with a time (T12:30, T12:30:15, any number of fractional
digits) and an offset (Z, +05:30, -0800). A time without an offset is UTC, as on a server running in
UTC. Anything else is not a date. Years before 1970 give negative times.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

# The forms accepted, checked before parsing: datetime.fromisoformat alone would also take "20240501"
# (a product code, say) or a week date.
_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?",
    re.ASCII,
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def unix_millis(value: str) -> int | None:
    """Milliseconds since 1970 (floored), or None if `value` is not an ISO-8601 date."""
    if _ISO.fullmatch(value) is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:  # a day or an hour that does not exist
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MILLISECOND


def unix_seconds(value: str) -> int | None:
    millis = unix_millis(value)
    return None if millis is None else millis // 1000


def convert_dates(value: Any) -> Any:
    """A copy of `value` with every ISO-8601 string, at any depth, turned into unix seconds."""
    kind = type(value)
    if kind is str:
        seconds = unix_seconds(value) if len(value) >= 10 and value[4] == "-" else None
        return value if seconds is None else seconds
    if kind is dict:
        return {key: convert_dates(item) if type(item) in _WALKED else item for key, item in value.items()}
    if kind is list:
        return [convert_dates(item) if type(item) in _WALKED else item for item in value]
    return value


# Only these can hold a date; numbers, booleans and nulls are copied without a call.
_WALKED = frozenset({str, dict, list})

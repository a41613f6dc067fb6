"""Dates to unix time, which is the only date form Customer.io understands.

Two readers, for two jobs:
- `read_millis` reads the event's own dates (timestamp, originalTimestamp, traits.createdAt, a record's
  created_at) in every form RudderStack's transformer reads with JavaScript's `new Date()`: ISO-8601
  (a year alone, "2024", and "2024-05" included), and what `written_dates` reads (a space instead of the
  T, slashes, month names, dates without times, RFC 2822, AM/PM, JavaScript's Date#toString); and unix
  time as a number or a numeric string, which JavaScript does not read as text. A value it cannot read
  is None: the caller leaves the field out and says so, because an event must never be lost over one
  date.
- `unix_millis` / `convert_dates` read only ISO-8601, because they turn strings inside attributes and
  properties into numbers (the convertToUnixTime option), where "05/01/2024" may well be a label.

Unix time is seconds, as Customer.io takes it, unless the number is too large to be seconds of any
real date (see _MILLIS_FROM). A time without an offset is UTC, as on a server running in UTC (where
`new Date()` reads local time). Years before 1970 give negative times.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from destinations.customerio.written_dates import read_written

# The forms accepted, checked before parsing: datetime.fromisoformat alone would also take "20240501"
# (a product code, say) or a week date.
_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?",
    re.ASCII,
)
_NUMERIC = re.compile(r"[+-]?\d+(?:\.\d+)?", re.ASCII)
# A year alone is ISO-8601 (and JavaScript's "2024" is 2024), not 2024 seconds after 1970.
_YEAR = re.compile(r"\d{4}", re.ASCII)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
# Customer.io's timestamps are unix seconds; a number this large as seconds would be after the year
# 5000, so it is milliseconds (JavaScript's Date.now()), which SDKs and databases also produce.
_MILLIS_FROM = 100_000_000_000
# JavaScript's own range for a date: 100,000,000 days either side of 1970.
_MAX_MILLIS = 8_640_000_000_000_000


def unix_millis(value: str) -> int | None:
    """Milliseconds since 1970 (floored), or None if `value` is not an ISO-8601 date."""
    if _ISO.fullmatch(value) is None:
        return None
    return _millis_of_iso(value)


def unix_seconds(value: str) -> int | None:
    millis = unix_millis(value)
    return None if millis is None else millis // 1000


def read_millis(value: Any) -> int | None:
    """Milliseconds since 1970 for any date form the reference reads, or None for anything else."""
    if isinstance(value, str):
        return _read_text(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _epoch_millis(value)
    return None


# A message's date is read when it is checked and again when it is sent: the second read is free.
@lru_cache(maxsize=512)
def _read_text(value: str) -> int | None:
    value = value.strip()
    if _ISO.fullmatch(value):
        millis = _millis_of_iso(value)
        if millis is not None:
            return millis  # else 24:00, which ISO-8601 allows and datetime does not, or no such day
    elif _NUMERIC.fullmatch(value) and not _YEAR.fullmatch(value):
        return _epoch_millis(float(value) if "." in value else int(value))
    return read_written(value)


def read_seconds(value: Any) -> int | None:
    millis = read_millis(value)
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


def _millis_of_iso(value: str) -> int | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:  # a day or an hour that does not exist
        return None
    return _since_epoch(moment)


def _epoch_millis(number: int | float) -> int | None:
    if not math.isfinite(number):
        return None
    millis = number if abs(number) >= _MILLIS_FROM else number * 1000
    return math.floor(millis) if abs(millis) <= _MAX_MILLIS else None


def _since_epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MILLISECOND

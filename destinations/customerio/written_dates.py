"""Dates written as text in the forms JavaScript's `new Date()` reads beyond ISO-8601.

RudderStack's transformer reads every date with `new Date(value)`, whose fallback (V8's "legacy")
parser takes what people, spreadsheets, databases and other programs write:

    2024-05-01 12:30:15+00                        PostgreSQL's timestamptz
    2024/05/01, 05/01/2024, 5/1/24 1:30 PM        slashes, month first, two-digit years, AM/PM
    May 1, 2024; 1 May 2024; 01-May-2024          month names, dates without times
    Wed, 01 May 2024 12:30:15 GMT                 RFC 2822, with or without the weekday and time
    Wed May 01 2024 12:30:15 GMT+0200 (CEST)      JavaScript's own Date#toString
    Wed May  1 12:30:15 2024                      C's asctime

`read_written` reads them as V8 does (words it does not know, before the first number, are skipped;
a comment in parentheses is skipped; a numeric offset after a zone name replaces it; a two-digit
year is 19xx from 50 on and 20xx below), with differences on purpose, each of which leaves the date
unread rather than guessed:
- a day or a time that does not exist ("2024-02-30", "13:00 PM") is not a date (V8 rolls the day over
  into March);
- a date needs its year ("May 1" is not a date; V8 makes it 2001);
- dots separate a date only after a four-digit year ("2024.05.01"): "01.05.2024" is the 1st of May
  where people write dots, and V8 reads it as January 5;
- a month is named by its English name or a prefix of it of three letters or more ("Sept", not
  "Mayo"), and the zone names are V8's (UT, UTC, GMT, Z and the US zones; "CEST" is not read as UTC).

A time without an offset is UTC, as on a server running in UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

_TOKEN = re.compile(r"\s+|\([^()]*\)|\d+|[A-Za-z]+|[,:./+\-]", re.ASCII)
_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Minutes east of UTC, for the names V8 knows.
_ZONES = {"z": 0, "ut": 0, "utc": 0, "gmt": 0, "est": -300, "edt": -240, "cst": -360, "cdt": -300}
_ZONES |= {"mst": -420, "mdt": -360, "pst": -480, "pdt": -420}
_NAIVE_EPOCH = datetime(1970, 1, 1)
_MILLISECOND = timedelta(milliseconds=1)


@dataclass
class _Parts:
    numbers: list[str] = field(default_factory=list)  # the date's numbers, as written
    month: int | None = None  # a named month, 1-12
    time: tuple[int, int, int, int] | None = None  # hour, minute, second, microsecond
    meridiem: str | None = None  # "am" or "pm"
    offset: int | None = None  # minutes east of UTC
    dotted: bool = False  # the date's numbers were separated by dots
    signed: bool = False  # the offset was written as a number
    zone_next: bool = False  # what came last (a time, a zone name, AM/PM) may be followed by an offset


def read_written(text: str) -> int | None:
    """Milliseconds since 1970 (floored), or None when `text` is no date in these forms."""
    tokens = _tokens(text)
    parts = None if tokens is None else _parse(tokens)
    if parts is None:
        return None
    date = _date(parts)
    time = _time_of_day(parts)
    if date is None or time is None:
        return None
    (year, month, day), (hour, minute, second, micro) = date, time
    try:
        moment = datetime(year, month, day, hour % 24, minute, second, micro)
    except ValueError:  # a day that does not exist, or a year beyond 1 to 9999
        return None
    millis = (moment - _NAIVE_EPOCH) // _MILLISECOND + (hour // 24) * 86_400_000
    return millis - (parts.offset or 0) * 60_000


def _tokens(text: str) -> list[str] | None:
    """The words, numbers and signs of `text`, without spaces, commas and comments; None for other
    characters."""
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            return None
        token = match.group()
        if not (token.isspace() or token == "," or token.startswith("(")):
            tokens.append(token)
        position = match.end()
    return tokens


def _parse(tokens: list[str]) -> _Parts | None:
    parts, index = _Parts(), 0
    while index < len(tokens):
        token, zone_next = tokens[index], parts.zone_next
        parts.zone_next = False
        if token.isdigit():
            index = _number(tokens, index, parts)
        elif token.isalpha():
            index = _word(tokens, index, parts)
        elif token in "+-" and (zone_next or _offset_may_follow(token, parts)):
            index = _offset(tokens, index, parts)
        elif token in "-/" or (token == "." and parts.numbers and parts.time is None):
            parts.dotted = parts.dotted or token == "."
            index += 1  # between the date's numbers
        else:
            return None
        if index < 0:
            return None
    return parts


def _offset_may_follow(sign: str, parts: _Parts) -> bool:
    """After a time written before the date ("12:30 May 1, 2024 +0200"), a plus is an offset; a minus
    stays a separator of the date's numbers (V8 reads some such minuses as offsets and ignores others,
    so they are left unread rather than guessed)."""
    return parts.time is not None and sign == "+"


def _number(tokens: list[str], index: int, parts: _Parts) -> int:
    """A number of the date, or the hour of the time; the index after it, -1 if it cannot be."""
    if index + 1 < len(tokens) and tokens[index + 1] == ":":
        return -1 if parts.time is not None else _clock(tokens, index, parts)
    if len(parts.numbers) == 3 or len(tokens[index]) > 4:
        return -1
    parts.numbers.append(tokens[index])
    return index + 1


def _clock(tokens: list[str], index: int, parts: _Parts) -> int:
    """h:m, h:m:s or h:m:s.fraction, one or two digits each but the fraction."""
    if len(tokens[index]) > 2:
        return -1
    values, index = [int(tokens[index])], index + 1
    while len(values) < 3 and index < len(tokens) and tokens[index] == ":":
        if index + 1 == len(tokens) or not (tokens[index + 1].isdigit() and len(tokens[index + 1]) <= 2):
            return -1
        values.append(int(tokens[index + 1]))
        index += 2
    micro = 0
    if len(values) == 3 and index < len(tokens) and tokens[index] == ".":
        if index + 1 == len(tokens) or not tokens[index + 1].isdigit():
            return -1
        micro, index = int(tokens[index + 1][:6].ljust(6, "0")), index + 2
    hour, minute, second = (*values, 0)[:3]
    parts.time, parts.zone_next = (hour, minute, second, micro), True
    return index


def _word(tokens: list[str], index: int, parts: _Parts) -> int:
    word = tokens[index].lower()
    after = index + 2 if index + 1 < len(tokens) and tokens[index + 1] == "." else index + 1
    if word in ("am", "pm") and parts.meridiem is None:
        parts.meridiem, parts.zone_next = word, True
    elif word in _ZONES and parts.offset is None:
        parts.offset, parts.zone_next = _ZONES[word], True
    elif word == "t":
        pass  # between the date and the time
    elif len(word) >= 3 and (month := _named(word, _MONTHS)):
        if parts.month is not None:
            return -1
        parts.month = month
        return after  # "Dec. 13"
    elif len(word) >= 3 and _named(word, _WEEKDAYS):
        return after
    elif parts.numbers or parts.time is not None:
        return -1  # V8 skips words it does not know only before the first number
    return index + 1


def _named(word: str, names: tuple[str, ...]) -> int:
    """1 + the index of the name `word` abbreviates, 0 for none."""
    return next((number for number, name in enumerate(names, 1) if name.startswith(word)), 0)


def _offset(tokens: list[str], index: int, parts: _Parts) -> int:
    """+h, +hh, +hhmm or +hh:mm after a time or a zone name; it replaces the zone name's offset."""
    if parts.signed or index + 1 == len(tokens) or not tokens[index + 1].isdigit():
        return -1
    digits, after = tokens[index + 1], index + 2
    if len(digits) <= 2 and after + 1 < len(tokens) and tokens[after] == ":":
        if not (tokens[after + 1].isdigit() and len(tokens[after + 1]) == 2):
            return -1
        digits, after = digits.zfill(2) + tokens[after + 1], after + 2
    if len(digits) <= 2:
        hours, minutes = int(digits), 0
    elif len(digits) == 4:
        hours, minutes = int(digits[:2]), int(digits[2:])
    else:
        return -1
    if hours > 23 or minutes > 59:
        return -1
    parts.offset = (1 if tokens[index] == "+" else -1) * (hours * 60 + minutes)
    parts.signed = True
    return after


def _date(parts: _Parts) -> tuple[int, int, int] | None:
    """(year, month, day): year first when the first number can only be a year, else the day and the
    year around a named month, or month, day and year (the US order, as V8 reads 05/01/2024)."""
    numbers = parts.numbers
    year_first = bool(numbers) and _only_a_year(numbers[0])
    if parts.dotted and not year_first:
        return None
    if parts.month is not None:
        if len(numbers) == 2:
            year, day = numbers if year_first else numbers[::-1]
        elif len(numbers) == 1 and year_first:
            year, day = numbers[0], "1"  # "May 2024"
        else:
            return None
        month = str(parts.month)
    elif len(numbers) == 3:
        year, month, day = numbers if year_first else (numbers[2], numbers[0], numbers[1])
    elif len(numbers) in (1, 2) and len(numbers[0]) == 4:
        year, month, day = numbers[0], numbers[1] if len(numbers) == 2 else "1", "1"  # "2024-05", "2024"
    else:
        return None
    if len(month) > 2 or len(day) > 2:
        return None
    return _full_year(year), int(month), int(day)


def _only_a_year(number: str) -> bool:
    return len(number) >= 3 or int(number) > 31


def _full_year(written: str) -> int:
    year = int(written)
    if len(written) < 4 and year < 100:
        return year + (1900 if year >= 50 else 2000)
    return year


def _time_of_day(parts: _Parts) -> tuple[int, int, int, int] | None:
    """The time with AM/PM applied; 24:00:00 is the end of the day (hour 24), as ISO-8601 allows."""
    if parts.time is None:
        return None if parts.meridiem else (0, 0, 0, 0)
    hour, minute, second, micro = parts.time
    if parts.meridiem:
        if hour > 12:
            return None
        hour = hour % 12 + (12 if parts.meridiem == "pm" else 0)
    if minute > 59 or second > 59 or hour > 24 or (hour == 24 and (minute, second, micro) != (0, 0, 0)):
        return None
    return hour, minute, second, micro

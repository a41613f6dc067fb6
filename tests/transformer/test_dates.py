"""Every date form RudderStack's transformer reads (with JavaScript's `new Date()`) is read here too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from destinations.customerio.dates import convert_dates, read_millis
from tests.transformer.helpers import send

MAY_1 = 1714521600  # 2024-05-01T00:00:00Z
MAY_1_1230 = MAY_1 + 12 * 3600 + 30 * 60 + 15  # 12:30:15


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("2024-05-01T12:30:15Z", MAY_1_1230),
        ("2024-05-01T12:30:15.999+00:00", MAY_1_1230),
        ("2024-05-01 12:30:15", MAY_1_1230),
        ("2024-05-01 12:30:15.250", MAY_1_1230),
        ("2024-05-01 12:30:15Z", MAY_1_1230),
        ("2024-05-01 12:30:15 UTC", MAY_1_1230),
        ("2024-05-01 14:30:15+02:00", MAY_1_1230),
        ("2024-05-01 12:30", MAY_1_1230 - 15),
        ("2024-05-01", MAY_1),
        ("2024/05/01", MAY_1),
        ("2024/5/1", MAY_1),
        ("2024/05/01 12:30:15", MAY_1_1230),
        ("05/01/2024", MAY_1),
        ("5/1/2024 12:30:15", MAY_1_1230),
        ("Wed, 01 May 2024 12:30:15 GMT", MAY_1_1230),
        ("01 May 2024 14:30:15 +0200", MAY_1_1230),
        (" 2024-05-01T12:30:15Z ", MAY_1_1230),
        (MAY_1_1230, MAY_1_1230),
        (MAY_1_1230 + 0.5, MAY_1_1230),
        (MAY_1_1230 * 1000 + 999, MAY_1_1230),
        (str(MAY_1_1230), MAY_1_1230),
        (str(MAY_1_1230 * 1000), MAY_1_1230),
        (f"{MAY_1_1230}.25", MAY_1_1230),
        (0, 0),
        (-14182940, -14182940),
        # PostgreSQL's timestamptz, whose offset is hours alone
        ("2024-05-01 12:30:15+00", MAY_1_1230),
        ("2024-05-01 14:30:15.250+02", MAY_1_1230),
        ("2024-05-01 07:30:15-05", MAY_1_1230),
        # dates without times, in words or numbers
        ("Wed, 01 May 2024", MAY_1),
        ("1 May 2024", MAY_1),
        ("May 1, 2024", MAY_1),
        ("Wednesday, May 1, 2024", MAY_1),
        ("01-May-2024", MAY_1),
        ("Dec. 31, 2023", MAY_1 - 122 * 86400),
        ("May 2024", MAY_1),
        ("2024-05", MAY_1),
        ("2024-5-1", MAY_1),
        ("2024", MAY_1 - 121 * 86400),  # a year alone, as ISO-8601 and JavaScript read it
        ("5/1/24", MAY_1),
        ("5/1/99", 925516800),  # 1999-05-01: two-digit years from 50 on are 19xx
        ("2024.05.01", MAY_1),
        # times of day in words, and the end of a day
        ("May 1, 2024 12:30:15 PM", MAY_1_1230),
        ("05/01/2024 12:30:15 am", MAY_1_1230 - 12 * 3600),
        ("2024-05-01 0:30:15 AM", MAY_1_1230 - 12 * 3600),
        ("2024-04-30T24:00:00Z", MAY_1),
        ("2024-04-30 24:00", MAY_1),
        # RFC 2822 and the forms programs print
        ("Wed, 01 May 2024 08:30:15 EDT", MAY_1_1230),
        ("Wed, 01 May 24 12:30:15 GMT", MAY_1_1230),
        ("Wed May 01 2024 14:30:15 GMT+0200 (Central European Summer Time)", MAY_1_1230),
        ("Wed May 01 2024 14:30:15 GMT+02:00", MAY_1_1230),
        ("Wed May 01 2024 07:00:15 GMT-0530", MAY_1_1230),
        ("Wed May  1 12:30:15 2024", MAY_1_1230),
        ("2024-05-01 12:30:15 (UTC)", MAY_1_1230),
        ("12:30:15 2024-05-01", MAY_1_1230),
    ],
)
def test_each_form_is_read(value, seconds):
    # given a date in one of the forms the reference reads
    # when it is read
    # then it is the same moment in unix time
    assert read_millis(value) // 1000 == seconds


def test_an_offset_after_a_zone_name_is_not_lost():
    # given JavaScript's Date#toString of 12:30:15 in Paris, which some tracking code sends as the time
    written = "Wed May 01 2024 12:30:15 GMT+0200 (Central European Summer Time)"
    # when it is read
    # then it is two hours before 12:30:15 UTC, not 12:30:15 UTC
    assert read_millis(written) // 1000 == MAY_1_1230 - 2 * 3600


def test_seconds_and_milliseconds_are_told_apart_by_size():
    # Customer.io takes unix seconds; a number that large as seconds would be after the year 5000
    assert read_millis(99_999_999_999) == 99_999_999_999_000  # seconds: the year 5138
    assert read_millis(100_000_000_000) == 100_000_000_000  # milliseconds: 1973


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "",
        "2024-13-01",
        "2024/02/30",
        "13/01/2024",
        "2024-05-01T25:00:00Z",
        "20240501X",
        "1e10",
        # a day or a time that does not exist, which JavaScript rolls over or makes up
        "2024-02-30",
        "2023-02-29 12:00",
        "2024-05-01 13:00 PM",
        "2024-05-01 24:00:01",
        "May 1",
        "01.05.2024",
        # zones JavaScript does not know are not UTC
        "Wed, 01 May 2024 12:30:15 CEST",
        "Wed, 01 May 2024 12:30:15 AST",
        "2024-05-01 12:30:15 +2360",
        "2024-05-01 12:30:15 soon",
        "12:30:15",
        float("nan"),
        float("inf"),
        10**30,
        True,
        None,
        [2024],
        {"t": 1},
    ],
)
def test_what_no_reader_reads_is_none(value):
    assert read_millis(value) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timestamp", "2024-05-01 12:30:15"),
        ("timestamp", "2024/05/01 12:30:15"),
        ("originalTimestamp", MAY_1_1230),
    ],
)
def test_an_event_s_time_in_any_form_is_sent(field, value):
    request = send({"type": "track", "userId": "u1", "event": "E", field: value})
    assert request.body["timestamp"] == MAY_1_1230 and request.notes == ()


@pytest.mark.parametrize("created_at", ["2024/05/01", "2024-05-01 00:00:00", MAY_1, MAY_1 * 1000, str(MAY_1)])
def test_created_at_in_any_form_is_sent_in_unix_seconds(created_at):
    request = send({"type": "identify", "userId": "u1", "traits": {"createdAt": created_at}})
    assert request.body == {"created_at": MAY_1}


def test_the_unix_time_option_still_converts_only_iso_dates():
    # a label such as "05/01/2024" inside attributes is not turned into a number
    assert convert_dates({"a": "2024-05-01", "b": "05/01/2024", "c": "2024/05/01"}) == {
        "a": MAY_1,
        "b": "05/01/2024",
        "c": "2024/05/01",
    }


ZONES = [
    UTC,
    timezone(timedelta(hours=2)),
    timezone(-timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=14)),
]


def written_forms(moment: datetime) -> dict[str, datetime]:
    """`moment` as programs and people write it, each with the moment it stands for (some drop the
    fraction of a second)."""
    whole = moment.replace(microsecond=0)
    offset = moment.utcoffset()
    hours, minutes = divmod(int(offset.total_seconds()) // 60, 60)
    forms = {
        moment.isoformat(): moment,
        moment.isoformat(sep=" "): moment,
        format_datetime(whole): whole,  # RFC 2822
        whole.strftime("%a %b %d %Y %H:%M:%S GMT%z (Some Zone)"): whole,  # JavaScript's Date#toString
        whole.strftime("%m/%d/%Y %I:%M:%S %p GMT%z"): whole,
        whole.strftime("%B %d, %Y %I:%M:%S %p %z"): whole,
        whole.strftime("%d-%b-%Y %H:%M:%S %z"): whole,
    }
    if minutes == 0:  # PostgreSQL writes a whole-hour offset as hours alone
        forms[moment.strftime("%Y-%m-%d %H:%M:%S.%f") + f"{hours:+03d}"] = moment
    return forms


@given(
    moment=st.datetimes(
        min_value=datetime(1000, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.sampled_from(ZONES)
    )
)
def test_a_moment_written_in_any_form_reads_back_as_itself(moment):
    # given a moment written in each form the reference reads
    for written, meant in written_forms(moment).items():
        # when it is read
        # then it is that moment, to the millisecond
        assert read_millis(written) == (meant - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(
            milliseconds=1
        ), written


@given(st.text(st.sampled_from(list("0123456789 :-/+.,()TZapmAPMGT")), max_size=24) | st.text(max_size=24))
def test_any_text_is_a_date_or_none_never_an_error(text):
    assert read_millis(text) is None or isinstance(read_millis(text), int)

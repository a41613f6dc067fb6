"""How the admin writes a moment: one exact form to the second, in the admin's time zone with the zone
named, and a short relative form that is only ever shown beside it.

Django's own rendering of a date and time (a read-only field, a list column) uses the same form, through
the format module cio_project/formats/en/formats.py, so every page agrees.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString

# Django's date format syntax: "2026-12-01 06:35:12 UTC".
EXACT_FORMAT = "Y-m-d H:i:s T"
# Ages in whole units, largest first: "3 s ago", "4 min ago", "2 h ago", "5 d ago".
UNITS = (("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1))


def exact_time(moment: datetime | None) -> str:
    """A moment to the second, in the admin's time zone, the zone shown; "-" when there is none."""
    if moment is None:
        return "-"
    return date_format(timezone.localtime(moment), EXACT_FORMAT)


def time_ago(moment: datetime | None, now: datetime | None = None) -> str:
    """How long ago (or, for a moment to come, how soon) in the largest whole unit: "3 s ago", "in 2 min"."""
    if moment is None:
        return "-"
    seconds = int(((now or timezone.now()) - moment).total_seconds())
    amount, unit = next(
        ((abs(seconds) // size, name) for name, size in UNITS if abs(seconds) >= size), (0, "s")
    )
    return f"in {amount} {unit}" if seconds < 0 else f"{amount} {unit} ago"


def moment_html(moment: datetime | None, now: datetime | None = None) -> SafeString | str:
    """The exact time with its age beside it, for a page: "2026-12-01 06:35:12 UTC (3 s ago)"."""
    if moment is None:
        return "-"
    return format_html(
        '<time datetime="{}">{}</time> <span class="relay-age">({})</span>',
        moment.isoformat(),
        exact_time(moment),
        time_ago(moment, now),
    )

"""Deliveries per hour and per day by status, counted in the database, for the dashboards.

One grouped query per destination reads the last 7 days through the (destination, created_at) index
and counts per (hour, status); days are summed from the hours. Hours are truncated in the current
time zone (USE_TZ), so a day is a local day on PostgreSQL and SQLite alike. A delivery counts in the
hour it was received, with the status it has now.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Min
from django.db.models.functions import TruncHour
from django.utils import timezone

from delivery.models import Delivery

Status = Delivery.Status
# Bottom to top in the stacked bars.
CHART_STATUSES = (Status.DELIVERED, Status.FILTERED, Status.FAILED, Status.RETRYING, Status.PENDING)
HOURS = 24
DAYS = 7


@dataclass(frozen=True)
class Bucket:
    start: datetime
    end: datetime
    counts: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Activity:
    hours: list[Bucket]
    days: list[Bucket]

    @property
    def since(self) -> datetime:
        """The start of the hourly window: the headline numbers count from here."""
        return self.hours[0].start

    @property
    def last_24_hours(self) -> Counter:
        return sum((bucket.counts for bucket in self.hours), Counter())

    @property
    def error_rate(self) -> float | None:
        """Failed out of everything that finished sending; None while nothing has."""
        return error_rate(self.last_24_hours)


def error_rate(counts: Counter) -> float | None:
    failed, delivered = counts[Status.FAILED], counts[Status.DELIVERED]
    return failed / (failed + delivered) if failed + delivered else None


def windows(now: datetime) -> tuple[list[datetime], list[date]]:
    """The starts of the last 24 hours and the dates of the last 7 days, oldest first, in local time."""
    local = timezone.localtime(now)
    this_hour = local.replace(minute=0, second=0, microsecond=0)
    # Hours step in absolute time, so a daylight-saving change neither skips nor repeats one.
    hours = [timezone.localtime(this_hour - timedelta(hours=back)) for back in range(HOURS - 1, -1, -1)]
    days = [local.date() - timedelta(days=back) for back in range(DAYS - 1, -1, -1)]
    return hours, days


def hourly_since(now: datetime) -> datetime:
    """Where the hourly window starts (Activity.since), without counting anything."""
    return windows(now)[0][0]


def start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def activity(destination_id: int, now: datetime | None = None) -> Activity:
    hour_starts, dates = windows(now or timezone.now())
    hours = {start: Bucket(start, start + timedelta(hours=1)) for start in hour_starts}
    days = {day: Bucket(start_of(day), start_of(day + timedelta(days=1))) for day in dates}
    since = min(hour_starts[0], start_of(dates[0]))
    rows = (
        Delivery.objects.filter(destination_id=destination_id, created_at__gte=since)
        .annotate(hour=TruncHour("created_at"))
        .values_list("hour", "status")
        .annotate(count=Count("id"))
        .order_by()
    )
    for hour, status, count in rows:
        local_hour = timezone.localtime(hour)
        if local_hour in hours:
            hours[local_hour].counts[status] += count
        if local_hour.date() in days:
            days[local_hour.date()].counts[status] += count
    return Activity(list(hours.values()), list(days.values()))


@dataclass(frozen=True)
class Headline:
    """What the overview shows for one destination."""

    counts: Counter
    open: int
    oldest_open_at: datetime | None

    @property
    def error_rate(self) -> float | None:
        return error_rate(self.counts)


def headlines(since: datetime) -> dict[int, Headline]:
    """Every destination's counts by status since `since`, and its open backlog: two grouped queries."""
    counts: dict[int, Counter] = {}
    recent = (
        Delivery.objects.filter(created_at__gte=since)
        .values_list("destination_id", "status")
        .annotate(count=Count("id"))
        .order_by()
    )
    for destination_id, status, count in recent:
        counts.setdefault(destination_id, Counter())[status] = count
    open_rows = (
        Delivery.objects.filter(status__in=Delivery.OPEN)
        .values("destination_id")
        .annotate(open=Count("id"), oldest=Min("created_at"))
        .order_by()
    )
    backlog = {row["destination_id"]: (row["open"], row["oldest"]) for row in open_rows}
    return {
        destination_id: Headline(
            counts.get(destination_id, Counter()), *backlog.get(destination_id, (0, None))
        )
        for destination_id in counts.keys() | backlog.keys()
    }

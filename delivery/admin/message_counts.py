"""Message activity by channel and metric over the last 24 hours and 7 days, for a destination's dashboard.

One grouped query reads the last 7 days from the (destination, occurred_at) index, which includes the
channel and metric, so PostgreSQL counts without reading the rows (COUNT(*), not COUNT(id): id is not
in the index); the 24-hour count is a filtered count in the same pass. Activity counts at the time
Customer.io says it happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse

from delivery.admin.timeline import CHANNELS
from delivery.models import MessageActivity

DAY = timedelta(hours=24)
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class MetricCount:
    channel: str
    metric: str
    last_24_hours: int
    last_7_days: int
    url: str


def metric_counts(destination_id: int, now: datetime) -> list[MetricCount]:
    rows = (
        MessageActivity.objects.filter(destination_id=destination_id, occurred_at__gte=now - WEEK)
        .values_list("object_type", "metric")
        .annotate(week=Count("*"), day=Count("occurred_at", filter=Q(occurred_at__gte=now - DAY)))
        .order_by("object_type", "metric")
    )
    changelist = reverse("admin:delivery_messageactivity_changelist")
    return [
        MetricCount(
            channel=CHANNELS.get(object_type, object_type),
            metric=metric,
            last_24_hours=day,
            last_7_days=week,
            url=changelist
            + "?"
            + urlencode(
                {"destination__id__exact": destination_id, "object_type": object_type, "metric": metric}
            ),
        )
        for object_type, metric, week, day in rows
    ]

"""The dashboards: all destinations' headline numbers, and one destination's deliveries over time."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.views import View

from cio_project.times import exact_time
from delivery.admin import access, links, replaying
from delivery.admin import backlog as stats
from delivery.admin.activity import (
    CHART_STATUSES,
    Activity,
    Bucket,
    activity,
    headlines,
    hourly_since,
    windows,
)
from delivery.admin.error_groups import error_groups, grouped_failures
from delivery.admin.message_counts import metric_counts
from delivery.engine.replay import plan
from delivery.models import Delivery
from destinations.models import Destination

STATUS_LABELS = dict(Delivery.Status.choices)


@dataclass(frozen=True)
class Segment:
    status: str
    label: str
    count: int
    url: str


@dataclass(frozen=True)
class Column:
    """One bar: its stacked segments (non-empty only), and its height as a share of the tallest bar."""

    label: str
    short_label: str
    total: int
    height: str
    segments: list[Segment]
    cells: list[Segment]  # every status, for the table of numbers


@dataclass(frozen=True)
class Chart:
    title: str
    columns: list[Column]
    totals: list[Segment]


def chart(title: str, buckets: list[Bucket], destination_id: int, hourly: bool) -> Chart:
    tallest = max((bucket.total for bucket in buckets), default=0) or 1
    columns = []
    for bucket in buckets:
        cells = [
            _segment(destination_id, status, bucket.counts[status], bucket.start, bucket.end)
            for status in CHART_STATUSES
        ]
        columns.append(
            Column(
                label=_bucket_label(bucket, hourly),
                short_label=date_format(timezone.localtime(bucket.start), "H" if hourly else "D j"),
                total=bucket.total,
                height=f"{100 * bucket.total / tallest:.1f}%",
                segments=[cell for cell in cells if cell.count],
                cells=cells,
            )
        )
    total = sum((bucket.counts for bucket in buckets), Counter())
    since, until = buckets[0].start, buckets[-1].end
    totals = [_segment(destination_id, status, total[status], since, until) for status in CHART_STATUSES]
    return Chart(title, columns, totals)


def _segment(
    destination_id: int, status: str, count: int, since: datetime, until: datetime | None
) -> Segment:
    url = links.log_url(destination_id, status, since, until)
    return Segment(status, str(STATUS_LABELS[status]), count, url)


def _bucket_label(bucket: Bucket, hourly: bool) -> str:
    start = timezone.localtime(bucket.start)
    if hourly:
        return f"{exact_time(bucket.start)} to {exact_time(bucket.end)}"
    return date_format(start, "l j F")


def percent(rate: float | None) -> str:
    return "no deliveries finished" if rate is None else f"{100 * rate:.1f}%"


class ToolView(View):
    site: admin.AdminSite | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not access.can_view(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def render(self, request: HttpRequest, template: str, **context: Any) -> HttpResponse:
        return TemplateResponse(request, template, {**self.site.each_context(request), **context})


class DestinationDashboardView(ToolView):
    def get(self, request: HttpRequest, object_id: int) -> HttpResponse:
        destination = get_object_or_404(Destination, pk=object_id)
        now = timezone.now()
        recent = activity(destination.pk, now)
        return self.render(
            request,
            "admin/tools/dashboard.html",
            title=f"Dashboard: {destination.name}",
            destination=destination,
            now=now,
            backlog=stats.backlog(destination.pk, now),
            numbers=_numbers(destination.pk, recent),
            error_rate=percent(recent.error_rate),
            error_groups=error_groups(destination.pk, recent.since),
            can_replay=access.can_replay(request.user),
            charts=[
                chart("Last 24 hours, by hour", recent.hours, destination.pk, hourly=True),
                chart("Last 7 days, by day", recent.days, destination.pk, hourly=False),
            ],
            message_activity=metric_counts(destination.pk, now),
            log_url=links.log_url(destination.pk),
            open_url=links.log_url(destination.pk, Delivery.Status.PENDING),
            retrying_url=links.log_url(destination.pk, Delivery.Status.RETRYING),
            failed_url=links.log_url(destination.pk, Delivery.Status.FAILED, recent.since),
            destination_url=links.destination_url(destination.pk),
        )


class ErrorGroupReplayView(ToolView):
    """ "Replay these" of one error group on a destination's dashboard: the replay confirmation, with the
    same rules as the log's (later deliveries of the same person, instrumentation errors left out)."""

    def post(self, request: HttpRequest, object_id: int) -> HttpResponse:
        if not access.can_replay(request.user):
            raise PermissionDenied
        destination = get_object_or_404(Destination, pk=object_id)
        back = HttpResponseRedirect(links.dashboard_url(destination.pk))
        group = request.POST.get("group", "")
        if request.POST.get("post") == "yes":
            ids = [int(pk) for pk in request.POST.getlist("_selected_action") if pk.isdigit()]
            replaying.perform(request, plan(ids), how=f"from the dashboard's error group “{group}”")
            return back
        # The dashboard's window, without counting its charts again.
        since = hourly_since(timezone.now())
        ids = grouped_failures(destination.pk, since)[0].get(group, [])
        if not ids:
            messages.warning(request, f"No failure of the last 24 hours has the reason “{group}” any more.")
            return back
        chosen = plan(ids)
        what = (
            f"The error group “{group}” holds {len(ids):,} failed {replaying.plural(len(ids))} to "
            f"{destination.name} received in the last 24 hours."
        )
        return replaying.confirmation(request, self.site, chosen, what=what, hidden=[("group", group)])


def _numbers(destination_id: int, recent: Activity) -> list[Segment]:
    counts = recent.last_24_hours
    return [_segment(destination_id, status, counts[status], recent.since, None) for status in CHART_STATUSES]


@dataclass(frozen=True)
class Row:
    destination: Destination
    dashboard_url: str
    numbers: list[Segment]
    error_rate: str
    open: int
    oldest_open_at: datetime | None


class DashboardsView(ToolView):
    def get(self, request: HttpRequest) -> HttpResponse:
        since = windows(timezone.now())[0][0]
        numbers = headlines(since)
        rows = []
        for destination in Destination.objects.order_by("name").only(
            "name", "enabled", "data_center", "credentials_rejected_at", "last_delivered_at"
        ):
            headline = numbers.get(destination.pk)
            counts = headline.counts if headline else Counter()
            rows.append(
                Row(
                    destination=destination,
                    dashboard_url=links.dashboard_url(destination.pk),
                    numbers=[
                        _segment(destination.pk, status, counts[status], since, None)
                        for status in CHART_STATUSES
                    ],
                    error_rate=percent(headline.error_rate if headline else None),
                    open=headline.open if headline else 0,
                    oldest_open_at=headline.oldest_open_at if headline else None,
                )
            )
        return self.render(
            request,
            "admin/tools/dashboards.html",
            title="Dashboards",
            rows=rows,
            since=since,
            statuses=[STATUS_LABELS[status] for status in CHART_STATUSES],
        )

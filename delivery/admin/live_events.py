"""A source's live events, as Segment's Debugger and RudderStack's Live Events show them: every event
the source stored, newest first, whether or not a destination receives it, and the requests the
ingestion API refused, with their reason.

The page (live_events.html) is a frame; its script (delivery/static/delivery/live_events.js) polls two
small JSON documents every POLL_SECONDS: the events newer than the newest it shows, and the refused
requests. Every read is bounded: a page of the newest PAGE_SIZE events of one source through the
(source, -id) index, the deliveries of those events through their event index, the last 24 hours of
hourly refusal counts, and the newest refused examples (a table kept small by refused_requests).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet, Subquery, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.formats import date_format

from delivery.admin import access, links
from delivery.admin.dashboards import ToolView
from delivery.models import Delivery, Event, RefusalCount, RefusedRequest
from destinations.models import Source

PAGE_SIZE = 50
POLL_SECONDS = 3
REFUSAL_WINDOW = timedelta(hours=24)
STATUS_LABELS = dict(Delivery.Status.choices)


def shown_time(moment: datetime) -> str:
    """To the second, with the time zone: what a person compares with their own logs."""
    return date_format(timezone.localtime(moment), "Y-m-d H:i:s T")


def newest_first(source: int | OuterRef) -> QuerySet[Event]:
    """A source's events, newest first, read from the (source, -id) index whatever the planner guesses.

    With `source_id = X ORDER BY id DESC`, PostgreSQL may instead walk the primary key backwards until
    it has met enough of the source's events: quick for a busy source, the whole table for one that
    sent nothing lately (and inside the sources list's subquery it cannot even tell which source it
    is). Written as a range of one source ordered by (source_id, id), only that index yields the order
    without sorting every event of the source, so both databases read just the rows shown.
    """
    return Event.objects.filter(source_id__gte=source, source_id__lte=source).order_by("source_id", "-id")


def last_event_received() -> Subquery:
    """For Source querysets: the newest event's received_at, one index probe per source."""
    return Subquery(newest_first(OuterRef("pk")).values("received_at")[:1])


def event_page(
    source_id: int, *, before: int | None = None, after: int | None = None, limit: int = PAGE_SIZE
) -> tuple[list[dict[str, Any]], bool]:
    """The source's newest `limit` events (older than `before`, or newer than `after`), newest first,
    and whether there are more beyond them."""
    events = newest_first(source_id)
    if before is not None:
        events = events.filter(id__lt=before)
    if after is not None:
        events = events.filter(id__gt=after)
    fields = ["id", "received_at", "type", "event_name", "user_id", "anonymous_id", "message_id"]
    found = list(events.values(*fields, "duplicates_dropped")[: limit + 1])
    page = found[:limit]
    routed: dict[int, Counter] = {row["id"]: Counter() for row in page}
    statuses = Delivery.objects.filter(event_id__in=list(routed)).values_list("event_id", "status")
    for event_id, status in statuses:
        routed[event_id][status] += 1
    return [_event(row, source_id, routed[row["id"]]) for row in page], len(found) > limit


def _event(row: dict[str, Any], source_id: int, routed: Counter) -> dict[str, Any]:
    count = sum(routed.values())
    return {
        "id": row["id"],
        "received_at": row["received_at"].isoformat(),
        "received": shown_time(row["received_at"]),
        "type": row["type"],
        "event_name": row["event_name"],
        "user_id": row["user_id"],
        "user_url": links.person_url(row["user_id"]) if row["user_id"] else "",
        "anonymous_id": row["anonymous_id"],
        "anonymous_url": links.person_url(row["anonymous_id"]) if row["anonymous_id"] else "",
        "message_id": row["message_id"],
        "repeats": row["duplicates_dropped"],
        "destinations": count,
        "destinations_text": routed_text(count),
        "destinations_detail": ", ".join(
            f"{number} {str(STATUS_LABELS.get(status, status)).lower()}"
            for status, number in sorted(routed.items())
        ),
        "log_url": _log_url(row["message_id"]) if count else "",
        "payload_url": reverse("admin:live_event_payload", args=[source_id, row["id"]]),
    }


def _log_url(message_id: str) -> str:
    """The event's deliveries in the log: its search matches a messageId exactly."""
    return f"{reverse('admin:delivery_delivery_changelist')}?{urlencode({'q': message_id})}"


def routed_text(count: int) -> str:
    if count == 0:
        return "no destination"
    return f"{count} destination{'s' if count > 1 else ''}"


def refusal_counts(source_id: int | None, now: datetime) -> list[dict[str, Any]]:
    """Refused requests of the source (None: unknown) in the last 24 hours by reason, most first."""
    rows = (
        RefusalCount.objects.filter(source_id=source_id, hour__gt=now - REFUSAL_WINDOW)
        .values("status", "code")
        .annotate(total=Sum("count"))
        .order_by("-total", "status", "code")
    )
    return [{"status": row["status"], "code": row["code"], "count": row["total"]} for row in rows]


def refused_examples(
    source_id: int | None, *, before: int | None = None, after: int | None = None, limit: int = PAGE_SIZE
) -> tuple[list[dict[str, Any]], bool]:
    examples: QuerySet[RefusedRequest] = RefusedRequest.objects.filter(source_id=source_id)
    if before is not None:
        examples = examples.filter(id__lt=before)
    if after is not None:
        examples = examples.filter(id__gt=after)
    found = list(examples.order_by("-id")[: limit + 1])
    return [_example(example) for example in found[:limit]], len(found) > limit


def _example(example: RefusedRequest) -> dict[str, Any]:
    return {
        "id": example.id,
        "received_at": example.received_at.isoformat(),
        "received": shown_time(example.received_at),
        "status": example.status,
        "code": example.code,
        "message": example.message,
        "method": example.method,
        "path": example.path,
        "client_address": example.client_address,
        "user_agent": example.user_agent,
        "body": example.body,
        "body_bytes": example.body_bytes,
    }


class LiveView(ToolView):
    """Who may watch a source: whoever may see sources and the delivery log."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not access.can_watch_sources(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def _source(source_id: int | None) -> Source | None:
    """The source watched; None for the unknown source (requests with a missing or unknown key)."""
    return None if source_id is None else get_object_or_404(Source.objects.only("id", "name"), pk=source_id)


def _id_param(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() and len(value) < 19 else None


def _json(document: dict[str, Any]) -> JsonResponse:
    response = JsonResponse(document)
    # Payloads hold people's data: no cache keeps a copy.
    add_never_cache_headers(response)
    return response


class LiveEventsView(LiveView):
    def get(self, request: HttpRequest, source_id: int | None = None) -> HttpResponse:
        source = _source(source_id)
        if source is None:
            title = "Refused requests with a missing or unknown write key"
            refused_url = reverse("admin:live_refused_data_unknown")
            events_url = ""
        else:
            title = f"Live events: {source.name}"
            refused_url = reverse("admin:live_refused_data", args=[source.pk])
            events_url = reverse("admin:live_events_data", args=[source.pk])
        return self.render(
            request,
            "admin/delivery/live_events.html",
            title=title,
            source=source,
            events_url=events_url,
            refused_url=refused_url,
            poll_seconds=POLL_SECONDS,
            page_size=PAGE_SIZE,
        )


class LiveEventsData(LiveView):
    """GET ...?after=ID: the events newer than ID; ?before=ID: the page older than ID; else the newest."""

    def get(self, request: HttpRequest, source_id: int) -> HttpResponse:
        source = _source(source_id)
        events, more = event_page(
            source.pk, before=_id_param(request, "before"), after=_id_param(request, "after")
        )
        return _json({"events": events, "more": more})


class EventPayloadView(LiveView):
    def get(self, request: HttpRequest, source_id: int, event_id: int) -> HttpResponse:
        event = get_object_or_404(Event.objects.only("payload"), pk=event_id, source_id=source_id)
        return _json({"payload": event.payload})


class RefusedData(LiveView):
    """The counts by reason over the last 24 hours, and the examples (?after=ID, ?before=ID)."""

    def get(self, request: HttpRequest, source_id: int | None = None) -> HttpResponse:
        source = _source(source_id)
        source_pk = source.pk if source is not None else None
        counts = refusal_counts(source_pk, timezone.now())
        examples, more = refused_examples(
            source_pk, before=_id_param(request, "before"), after=_id_param(request, "after")
        )
        total = sum(row["count"] for row in counts)
        return _json({"counts": counts, "total": total, "examples": examples, "more": more})


def urls(site: Any) -> list[URLPattern]:
    """The live view's pages, for the admin site (cio_project/admin_site.py)."""

    def view(cls: type[LiveView]) -> Any:
        return site.admin_view(cls.as_view(site=site))

    return [
        path("live/source/<int:source_id>/", view(LiveEventsView), name="live_events"),
        path("live/source/<int:source_id>/events.json", view(LiveEventsData), name="live_events_data"),
        path(
            "live/source/<int:source_id>/events/<int:event_id>.json",
            view(EventPayloadView),
            name="live_event_payload",
        ),
        path("live/source/<int:source_id>/refused.json", view(RefusedData), name="live_refused_data"),
        path("live/unknown-source/", view(LiveEventsView), name="live_events_unknown"),
        path("live/unknown-source/refused.json", view(RefusedData), name="live_refused_data_unknown"),
    ]

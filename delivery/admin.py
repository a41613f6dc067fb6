"""The delivery log in the admin: every delivery, why it ended as it did, and a way to send it again.

Built for a table of a million rows: the list reads one page in id order through an index, never
counts the whole table, and shows only columns stored on the delivery (destination and source names
come from two small lookups, not a join per row). Nothing here edits a delivery by hand; the only
write is a replay, through delivery.replay.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.views.decorators.http import require_POST

from cio_project.log_redaction import redact
from delivery.api.validation import MESSAGE_TYPES
from delivery.models import Attempt, Delivery, Event
from delivery.replay import REPLAYABLE, replay
from delivery.transport import UnknownHostError, redacted_headers, resolve_url

# A replay action touches at most this many deliveries; the confirmation page says when it cuts.
REPLAY_LIMIT = 10_000
# Deliveries shown before and after the current one in a person's history on the detail page.
NEIGHBOURS = 5
# The list counts at most this many pages past the one asked for ("more than N deliveries").
PAGES_COUNTED_AHEAD = 10
# Search terms resolve to at most this many events (messageId) or people (email, anonymousId).
SEARCH_FANOUT = 100


class LogPaginator(Paginator):
    """Counts only as far as a few pages past the one asked for, so a page costs the same at any size.

    A full COUNT(*) reads every row of a million-row table; the list needs only to know whether
    there are more pages near the current one.
    """

    def __init__(self, object_list: QuerySet, per_page: int, page: int = 1, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.limit = (page + PAGES_COUNTED_AHEAD) * per_page + 1

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.limit].count()

    @property
    def capped(self) -> bool:
        """True when there are more rows than were counted (and the count is a lower bound)."""
        return self.count >= self.limit

    def get_elided_page_range(
        self, number: int = 1, *, on_each_side: int = 3, on_ends: int = 2
    ) -> Iterator[int | str]:
        if not self.capped:
            yield from super().get_elided_page_range(number, on_each_side=on_each_side, on_ends=on_ends)
            return
        # The last page is unknown: the first pages, the ones around this one, and an ellipsis.
        start = max(1, number - on_each_side)
        yield from range(1, min(on_ends, start - 1) + 1)
        if start > on_ends + 1:
            yield self.ELLIPSIS
        yield from range(start, number + on_each_side + 1)
        yield self.ELLIPSIS


class LogChangeList(ChangeList):
    def get_ordering(self, request: HttpRequest, queryset: QuerySet) -> list[str]:
        # Always newest first, whatever ?o= says: the one order every filter's index can give.
        return ["-id"]


class ReceivedFilter(admin.SimpleListFilter):
    title = "received"
    parameter_name = "received"
    WINDOWS = {
        "24h": ("Last 24 hours", timedelta(hours=24)),
        "7d": ("Last 7 days", timedelta(days=7)),
        "30d": ("Last 30 days", timedelta(days=30)),
    }

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("today", "Today")] + [(key, label) for key, (label, _) in self.WINDOWS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == "today":
            midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
            return queryset.filter(created_at__gte=midnight)
        if value in self.WINDOWS:
            return queryset.filter(created_at__gte=timezone.now() - self.WINDOWS[value][1])
        return queryset


class MessageTypeFilter(admin.SimpleListFilter):
    """The six spec types, listed without asking the table (a DISTINCT over a million rows)."""

    title = "message type"
    parameter_name = "type"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(name, name) for name in MESSAGE_TYPES]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        return queryset.filter(message_type=value) if value in MESSAGE_TYPES else queryset


def search_filter(term: str) -> Q:
    """What a search term matches: see DeliveryAdmin.search_help_text. Every part is an indexed equality."""
    events = Event.objects.filter(Q(email=term) | Q(anonymous_id=term))
    people = {term}
    for user_id, anonymous_id in events.values_list("user_id", "anonymous_id").distinct()[:SEARCH_FANOUT]:
        people.add(user_id or anonymous_id)
    messages_ids = Event.objects.filter(message_id=term).values_list("id", flat=True)[:SEARCH_FANOUT]
    return Q(person__in=people) | Q(event_name=term) | Q(event_id__in=list(messages_ids))


def pretty(value: Any) -> str:
    """JSON for a person to read, with any secret the process knows of masked."""
    return redact(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False))


def shown_requests(requests: Any) -> list[dict]:
    """Delivery.requests as they went out: to the configured base URL, Authorization masked whatever
    wrote them (recording already masks it)."""
    shown = []
    for request in requests if isinstance(requests, list) else []:
        if not isinstance(request, dict):
            continue
        headers = request.get("headers") if isinstance(request.get("headers"), dict) else {}
        endpoint = sent_to(request.get("endpoint"))
        shown.append({**request, "endpoint": endpoint, "headers": redacted_headers(headers)})
    return shown


def sent_to(endpoint: Any) -> Any:
    try:
        return resolve_url(endpoint) if isinstance(endpoint, str) else endpoint
    except UnknownHostError:
        return endpoint


def change_link(url_name: str, obj: Any) -> str:
    """A link to an object's admin page."""
    if obj is None:
        return "-"
    return format_html('<a href="{}">{}</a>', reverse(url_name, args=[obj.pk]), obj)


def badge(delivery: Delivery) -> str:
    return format_html(
        '<span class="delivery-badge delivery-{}">{}</span>', delivery.status, delivery.get_status_display()
    )


def age(moment: Any) -> str:
    return f"{timesince(moment, depth=1)} ago" if moment else "-"


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "status_badge",
        "message_type",
        "event_name",
        "person",
        "destination_name",
        "source_name",
        "attempts",
        "last_status_code",
        "received",
        "replayed",
    )
    list_display_links = ("id", "status_badge")
    list_filter = ("status", MessageTypeFilter, "destination", "source", ReceivedFilter)
    # The search box needs a field listed; get_search_results decides what a term matches.
    search_fields = ("person",)
    search_help_text = (
        "Exact match, case-sensitive: a user id or anonymous id (with the deliveries filed under the "
        "user id that anonymous id was identified as), an email address (the deliveries of the people "
        "who have it), an event or page name, or a messageId."
    )
    ordering = ("-id",)
    sortable_by = ()
    list_per_page = 100
    show_full_result_count = False
    # Facet counts are a COUNT per filter choice over the whole log: too dear at a million rows.
    show_facets = admin.ShowFacets.NEVER
    paginator = LogPaginator
    actions = ["replay_selected"]
    change_list_template = "admin/delivery/delivery/change_list.html"

    # --- Read-only: the engine writes the log, people only read it and ask for replays ---------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Delivery | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Delivery | None = None) -> bool:
        return request.user.is_superuser

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.has_perm("delivery.change_delivery")

    def get_actions(self, request: HttpRequest) -> dict:
        # Deleting a selection across a million rows is not a button to offer; one at a time only.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # --- The list ----------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Two small IN queries for a page's destinations and sources, rather than a join the
        # planner might turn into a scan of every delivery.
        return super().get_queryset(request).prefetch_related("destination", "source")

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return LogChangeList

    def get_paginator(
        self, request: HttpRequest, queryset: QuerySet, per_page: int, orphans: int = 0, **kwargs: Any
    ) -> LogPaginator:
        try:
            page = max(1, min(int(request.GET.get("p", 1)), 10**9 // per_page))
        except ValueError:
            page = 1
        return LogPaginator(queryset, per_page, page, orphans=orphans, **kwargs)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(search_filter(term)), False

    @admin.display(description="status")
    def status_badge(self, delivery: Delivery) -> str:
        return badge(delivery)

    @admin.display(description="destination")
    def destination_name(self, delivery: Delivery) -> str:
        return delivery.destination.name

    @admin.display(description="source")
    def source_name(self, delivery: Delivery) -> str:
        return delivery.source.name

    @admin.display(description="received")
    def received(self, delivery: Delivery) -> str:
        moment = delivery.created_at
        return format_html('<span title="{}">{}</span>', moment.isoformat(), age(moment))

    @admin.display(description="replayed")
    def replayed(self, delivery: Delivery) -> str:
        if not delivery.replay_count:
            return ""
        times = "" if delivery.replay_count == 1 else f" {delivery.replay_count} times"
        return format_html(
            '<span class="delivery-replayed" title="last replayed {}">replayed{}</span>',
            age(delivery.replayed_at),
            times,
        )

    # --- Replay --------------------------------------------------------------------------------

    @admin.action(description="Retry / replay selected deliveries", permissions=["replay"])
    def replay_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        replayable = queryset.filter(status__in=REPLAYABLE).order_by("id")
        ids = list(replayable.values_list("id", flat=True)[:REPLAY_LIMIT])
        if request.POST.get("post") == "yes":
            count = replay(ids)
            self.message_user(request, f"{count} {plural(count)} replayed: they are pending again.")
            return None
        selected, replayable_count = queryset.count(), replayable.count()
        context = {
            **self.admin_site.each_context(request),
            "title": "Replay deliveries",
            "opts": self.model._meta,
            "ids": ids,
            "selected": selected,
            "replayable": len(ids),
            "skipped": selected - replayable_count,
            "over_limit": replayable_count - len(ids),
            "limit": REPLAY_LIMIT,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/delivery/delivery/replay_confirmation.html", context)

    def replay_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        delivery = self.get_object(request, unquote(object_id))
        if delivery is None:
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        if not self.has_replay_permission(request):
            return HttpResponse("You may not replay deliveries.", status=403)
        if replay([delivery.pk]):
            self.message_user(request, f"Delivery {delivery.pk} replayed: it is pending again.")
        else:
            self.message_user(
                request,
                f"Delivery {delivery.pk} is {delivery.get_status_display().lower()}: only failed or "
                "filtered deliveries can be replayed.",
                messages.WARNING,
            )
        return HttpResponseRedirect(reverse("admin:delivery_delivery_change", args=[delivery.pk]))

    def get_urls(self) -> list:
        replay_view = self.admin_site.admin_view(require_POST(self.replay_view))
        own = path("<path:object_id>/replay/", replay_view, name="delivery_delivery_replay")
        return [own, *super().get_urls()]

    # --- The detail page -----------------------------------------------------------------------

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        delivery = self.get_object(request, unquote(object_id))
        if delivery is None:
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        if not self.has_view_permission(request, delivery):
            return HttpResponse("You may not view deliveries.", status=403)
        context = {
            **self.admin_site.each_context(request),
            **detail_context(delivery),
            "title": f"Delivery {delivery.pk}",
            "opts": self.model._meta,
            "original": delivery,
            "can_replay": delivery.status in REPLAYABLE and self.has_replay_permission(request),
            "can_delete": self.has_delete_permission(request, delivery),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/delivery/delivery/detail.html", context)

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Delivery | None:
        queryset = self.get_queryset(request).select_related("event", "destination", "source")
        try:
            return queryset.get(pk=int(object_id))
        except (ValueError, OverflowError, Delivery.DoesNotExist):
            return None


def plural(count: int) -> str:
    return "delivery" if count == 1 else "deliveries"


def detail_context(delivery: Delivery) -> dict[str, Any]:
    """Everything the detail page shows about one delivery, read in a few indexed queries."""
    siblings = delivery.event.deliveries.exclude(pk=delivery.pk)
    links = delivery.delivery_attempts.select_related("attempt").order_by("attempt__started_at", "attempt_id")
    return {
        "status_badge": badge(delivery),
        "destination_link": change_link("admin:destinations_destination_change", delivery.destination),
        "source_link": change_link("admin:destinations_source_change", delivery.source),
        "dashboard_url": reverse("admin:destination_dashboard", args=[delivery.destination_id]),
        "tester_url": reverse("admin:event_tester")
        + f"?event={delivery.event_id}&destination={delivery.destination_id}",
        "event": delivery.event,
        "event_json": pretty(delivery.event.payload),
        "requests": [pretty(request) for request in shown_requests(delivery.requests)],
        "attempts": [attempt_row(link.attempt, link) for link in links],
        "neighbours": neighbours(delivery),
        "siblings": siblings.select_related("destination").order_by("id"),
    }


def attempt_row(attempt: Attempt, link: Any) -> dict[str, Any]:
    return {
        "started_at": attempt.started_at,
        "duration_ms": attempt.duration_ms,
        "method": attempt.method,
        "url": redact(attempt.url),
        "status_code": attempt.status_code,
        "response_body": redact(attempt.response_body),
        "error": redact(link.error or attempt.error),
        "outcome": link.get_outcome_display(),
        "outcome_value": link.outcome,
    }


def neighbours(delivery: Delivery) -> list[Delivery]:
    """The person's deliveries to the same destination around this one, oldest first (id order)."""
    if not delivery.person:
        return []
    same = Delivery.objects.filter(destination_id=delivery.destination_id, person=delivery.person)
    fields = ("id", "status", "message_type", "event_name", "created_at", "last_status_code")
    before = list(same.filter(id__lt=delivery.pk).order_by("-id").only(*fields)[:NEIGHBOURS])
    after = list(same.filter(id__gt=delivery.pk).order_by("id").only(*fields)[:NEIGHBOURS])
    return [*reversed(before), delivery, *after]

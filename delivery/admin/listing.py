"""The delivery log's list: a paginator that never counts a million rows, its filters, and its search.

Every filter and search term becomes an indexed read in id order (the model's (column, -id) indexes).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import cached_property

from delivery.ingestion.validation import MESSAGE_TYPES
from delivery.models import Event

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


def page_paginator(request: HttpRequest, queryset: QuerySet, per_page: int, **kwargs: Any) -> LogPaginator:
    """A LogPaginator that counts only as far as the page asked for (?p=) needs."""
    try:
        page = max(1, min(int(request.GET.get("p", 1)), 10**9 // per_page))
    except ValueError:
        page = 1
    return LogPaginator(queryset, per_page, page, **kwargs)


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

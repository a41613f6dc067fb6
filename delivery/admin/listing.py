"""The delivery log's list: a paginator that never counts a million rows, its filters, and its search.

Every filter and search term becomes an indexed read in id order (the model's (column, -id) indexes),
newest first or, sorted by the Received column, oldest first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import cached_property

from cio_project.times import exact_time
from delivery.ingestion.validation import MESSAGE_TYPES
from delivery.models import Event, normal_email

# The list counts at most this many pages past the one asked for ("more than N deliveries").
PAGES_COUNTED_AHEAD = 10
# Search terms resolve to at most this many events (messageId) or people (email, anonymousId).
SEARCH_FANOUT = 100


class LogPaginator(Paginator):
    """Counts only as far as a few pages past the one asked for, so a page costs the same at any size.

    A full COUNT(*) reads every row of a million-row table; the list needs only to know whether
    there are more pages near the current one.
    """

    def __init__(
        self,
        object_list: QuerySet,
        per_page: int,
        page: int = 1,
        ahead: int = PAGES_COUNTED_AHEAD,
        **kwargs: Any,
    ) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.limit = (page + ahead) * per_page + 1

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
    """A LogPaginator that counts only as far as the page asked for (?p=) needs, and `ahead` pages on
    (PAGES_COUNTED_AHEAD unless given)."""
    try:
        page = max(1, min(int(request.GET.get("p", 1)), 10**9 // per_page))
    except ValueError:
        page = 1
    return LogPaginator(queryset, per_page, page, **kwargs)


class LogChangeList(ChangeList):
    def get_ordering(self, request: HttpRequest, queryset: QuerySet) -> list[str]:
        # Newest first, or oldest first when the Received column asks (its ordering is "id"): the
        # two orders every filter's (column, -id) index gives, read forwards or backwards. A window
        # that ends in the past is read in received time instead, the same order, from the
        # (created_at) indexes: in id order the read would walk back over every later row first.
        oldest_first = super().get_ordering(request, queryset)[0] == "id"
        if ReceivedFilter.ENDS in request.GET:
            return ["created_at", "id"] if oldest_first else ["-created_at", "-id"]
        return ["id"] if oldest_first else ["-id"]

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        search = self.model_admin.search_of(request, self.query.strip()) if self.query.strip() else None
        # What the term matched, for the page to say; what it tried, when nothing matched.
        self.search_matched = search.matched(self.queryset) if search and self.result_count else []
        self.search_tried = [part.words for part in search.parts] if search else []


class ReceivedFilter(admin.SimpleListFilter):
    """A window of time received: a preset (?received=24h), or a range from / to, which the dashboards'
    links also give (?created_at__gte=...&created_at__lt=..., the standard admin lookups)."""

    title = "received"
    parameter_name = "received"
    template = "admin/delivery/delivery/received_filter.html"
    WINDOWS = {
        "24h": ("Last 24 hours", timedelta(hours=24)),
        "7d": ("Last 7 days", timedelta(days=7)),
        "30d": ("Last 30 days", timedelta(days=30)),
    }
    # Query parameter -> the field's name on the page.
    BOUNDS = {"created_at__gte": "Received from", "created_at__lt": "Received to"}
    ENDS = "created_at__lt"

    def __init__(self, request: HttpRequest, params: dict, model: Any, model_admin: admin.ModelAdmin) -> None:
        given = {name: params.pop(name)[-1] for name in self.BOUNDS if name in params}
        super().__init__(request, params, model, model_admin)
        self.used_parameters.update(given)
        self.range, errors = read_range(given, self.BOUNDS)
        for error in errors.values():
            messages.error(request, error)
        # The range's inputs, as given, each with its error.
        self.fields = [
            {
                "name": name,
                "label": label,
                # A bound that reads is shown as the admin writes times; one that does not, as given.
                "value": exact_time(self.range[name]) if name in self.range else given.get(name, ""),
                "error": errors.get(name, ""),
            }
            for name, label in self.BOUNDS.items()
        ]
        # The rest of the query, kept by the range's form.
        self.other_params = [
            (name, value)
            for name, values in request.GET.lists()
            if name not in self.BOUNDS and name != "p"
            for value in values
        ]

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("today", "Today")] + [(key, label) for key, (label, _) in self.WINDOWS.items()]

    def expected_parameters(self) -> list[str]:
        return [self.parameter_name, *self.BOUNDS]

    def choices(self, changelist: ChangeList) -> Iterator[dict[str, Any]]:
        bounds = list(self.BOUNDS)
        yield {
            "selected": self.value() is None and not self.range,
            "query_string": changelist.get_query_string(remove=[self.parameter_name, *bounds]),
            "display": "All",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup and not self.range,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}, remove=bounds),
                "display": title,
            }
        if self.range:
            since, until = self.range.get("created_at__gte"), self.range.get("created_at__lt")
            words = " ".join(
                [f"from {exact_time(since)}" if since else "", f"to {exact_time(until)}" if until else ""]
            )
            yield {"selected": True, "query_string": changelist.get_query_string(), "display": words.strip()}

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == "today":
            midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
            queryset = queryset.filter(created_at__gte=midnight)
        elif value in self.WINDOWS:
            queryset = queryset.filter(created_at__gte=timezone.now() - self.WINDOWS[value][1])
        return queryset.filter(**self.range)


def read_range(given: dict[str, str], fields: dict[str, str]) -> tuple[dict[str, datetime], dict[str, str]]:
    """The bounds that read as moments, and an error naming each field that does not (or that ends
    before it starts). A moment without a zone is in the admin's time zone."""
    moments, errors = {}, {}
    zone = timezone.localtime().tzname() or ""
    for name, text in given.items():
        written = text.strip().removesuffix(f" {zone}") if zone else text.strip()
        try:
            moment = datetime.fromisoformat(written)
            moments[name] = timezone.make_aware(moment) if timezone.is_naive(moment) else moment
        except (ValueError, OverflowError):
            errors[name] = (
                f"{fields[name]}: \u201c{text[:40]}\u201d is not a date and time; write it as "
                f"{exact_time(timezone.now().replace(microsecond=0))} or 2026-12-01 06:35 (in {zone})."
            )
    since, until = moments.get("created_at__gte"), moments.get("created_at__lt")
    if since and until and since >= until:
        errors["created_at__lt"] = (
            f"{fields['created_at__lt']}: must be after {fields['created_at__gte'].lower()}."
        )
        moments.pop("created_at__lt")
    return moments, errors


class MessageTypeFilter(admin.SimpleListFilter):
    """The six spec types, listed without asking the table (a DISTINCT over a million rows)."""

    title = "message type"
    parameter_name = "type"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(name, name) for name in MESSAGE_TYPES]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        return queryset.filter(message_type=value) if value in MESSAGE_TYPES else queryset


@dataclass(frozen=True)
class SearchPart:
    """One way a term can match a delivery, in words for the page ("person starts with "jane"")."""

    words: str
    condition: Q


@dataclass(frozen=True)
class LogSearch:
    """What a search term matches (DeliveryAdmin.search_help_text): each part an indexed read.

    Ids and names match by prefix, through an index range (starts_with); an email matches whatever
    its case, as addresses are stored lowercased (normal_email).
    """

    term: str
    parts: tuple[SearchPart, ...]

    @property
    def condition(self) -> Q:
        found = Q(pk__in=[])
        for part in self.parts:
            found |= part.condition
        return found

    def matched(self, results: QuerySet) -> list[str]:
        """The parts that found some of `results` (the filtered, searched list): one LIMIT 1 read each."""
        return [part.words for part in self.parts if results.filter(part.condition).exists()]


def log_search(term: str) -> LogSearch:
    quoted = f"\u201c{term}\u201d"
    parts = [
        SearchPart(f"person starts with {quoted}", starts_with("person", term)),
        SearchPart(f"event name starts with {quoted}", starts_with("event_name", term)),
    ]
    sent = Event.objects.filter(starts_with("message_id", term)).values_list("id", flat=True)
    if event_ids := list(sent[:SEARCH_FANOUT]):
        parts.append(SearchPart(f"messageId starts with {quoted}", Q(event_id__in=event_ids)))
    if "@" in term:
        email = normal_email(term)
        people = _people(Event.objects.filter(email=email))
        words = f"person has the email \u201c{email}\u201d (matched case-insensitive)"
        parts.append(SearchPart(words, Q(person__in=people)))
    else:
        became = _people(Event.objects.filter(anonymous_id=term)) - {term}
        words = f"person is the user id that anonymous id {quoted} was identified as"
        parts.extend([SearchPart(words, Q(person__in=became))] if became else [])
    return LogSearch(term, tuple(parts))


def _people(events: QuerySet) -> set[str]:
    """The persons (userId, else anonymousId) of some events, at most SEARCH_FANOUT of them."""
    pairs = events.values_list("user_id", "anonymous_id").distinct()[:SEARCH_FANOUT]
    return {user_id or anonymous_id for user_id, anonymous_id in pairs}


def starts_with(field: str, prefix: str) -> Q:
    """`field` starts with `prefix`, case-sensitive, as a range read of the field's index.

    PostgreSQL reads LIKE 'prefix%' through a PREFIX_OPCLASS index (or any btree index in a "C"
    collation database). SQLite's LIKE ignores case and so reads no index; the same rows are the
    range [prefix, prefix with its last character incremented), which its byte-ordered index serves.
    """
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__startswith": prefix})
    after = prefix[:-1] + chr(ord(prefix[-1]) + 1) if ord(prefix[-1]) < 0x10FFFF else prefix + "\U0010ffff"
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": after})

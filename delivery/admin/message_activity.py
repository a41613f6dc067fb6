"""Message activity in the admin: what Customer.io's reporting webhooks said, row by row, read-only.

The list reads newest first in id order, filters by fixed choices and never counts the table;
a row's page shows the body exactly as Customer.io posted it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from delivery.admin import links
from delivery.admin.listing import LogPaginator, page_paginator
from delivery.admin.timeline import CHANNELS
from delivery.models import MessageActivity, normal_email

# The metrics of Customer.io's reporting webhook reference, offered as filters without asking the table
# (a DISTINCT over a million rows); a metric outside the list is still stored and searchable.
METRICS = (
    "attempted",
    "bounced",
    "cio_subscription_preferences_changed",
    "clicked",
    "converted",
    "delivered",
    "drafted",
    "dropped",
    "failed",
    "opened",
    "sent",
    "spammed",
    "subscribed",
    "undeliverable",
    "unsubscribed",
)


class ChoiceFilter(admin.SimpleListFilter):
    options: tuple[tuple[str, str], ...] = ()

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> tuple[tuple[str, str], ...]:
        return self.options

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        return queryset.filter(**{self.parameter_name: value}) if value else queryset


class ChannelFilter(ChoiceFilter):
    title = "channel"
    parameter_name = "object_type"
    options = tuple(CHANNELS.items())


class MetricFilter(ChoiceFilter):
    title = "metric"
    parameter_name = "metric"
    options = tuple((metric, metric.replace("_", " ")) for metric in METRICS)


@admin.register(MessageActivity)
class MessageActivityAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "channel", "metric", "person_link", "recipient", "message_name", "reason")
    list_filter = ("destination", ChannelFilter, MetricFilter)
    search_fields = ("customer_id",)
    search_help_text = "Exact match: a customer_id or a cio_id, or an email address whatever its case."
    # The primary key's order is the order rows arrived in, and needs no index of its own.
    ordering = ("-id",)
    sortable_by = ()
    list_per_page = 100
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = LogPaginator
    readonly_fields = [field.name for field in MessageActivity._meta.fields]

    def get_paginator(
        self, request: HttpRequest, queryset: QuerySet, per_page: int, orphans: int = 0, **kwargs: Any
    ) -> LogPaginator:
        return page_paginator(request, queryset, per_page, orphans=orphans, **kwargs)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: MessageActivity | None = None) -> bool:
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(Q(customer_id=term) | Q(email=normal_email(term)) | Q(cio_id=term)), False

    @admin.display(description="person")
    def person_link(self, row: MessageActivity) -> str:
        person = row.customer_id or row.email or row.cio_id
        if not person:
            return "-"
        return format_html('<a href="{}">{}</a>', links.person_url(person), person)

    @admin.display(description="channel")
    def channel(self, row: MessageActivity) -> str:
        return CHANNELS.get(row.object_type, row.object_type)

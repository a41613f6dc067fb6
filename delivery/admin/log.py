"""The delivery log in the admin: every delivery, why it ended as it did, and a way to send it again.

Built for a table of a million rows: the list reads one page in id order through an index, never
counts the whole table, and shows only columns stored on the delivery (destination and source names
come from two small lookups, not a join per row). Nothing here edits or deletes a delivery by hand
(retention deletes them); the only write is a replay, through delivery.admin.replaying.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from cio_project.times import exact_time, moment_html, time_ago
from delivery.admin import links
from delivery.admin.detail import detail_context
from delivery.admin.display import badge
from delivery.admin.error_groups import ReasonGroupFilter
from delivery.admin.listing import (
    LogChangeList,
    LogPaginator,
    LogSearch,
    MessageTypeFilter,
    ReceivedFilter,
    log_search,
    page_paginator,
)
from delivery.admin.replaying import confirmation, perform, plural
from delivery.engine.replay import REPLAYABLE, UNCHANGEABLE_WHY, is_replayable, plan
from delivery.models import Delivery

# A replay action touches at most this many deliveries; the confirmation page says when it cuts.
REPLAY_LIMIT = 10_000


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    # Type and name share a column, as do attempts and the last answer: the table fits at 1440 wide
    # with the admin's sidebar and the filters open.
    list_display = (
        "id",
        "status_badge",
        "event_summary",
        "person_link",
        "destination_name",
        "source_name",
        "attempts",
        "received",
        "replayed",
    )
    list_display_links = ("id", "status_badge")
    list_filter = ("status", MessageTypeFilter, "destination", "source", ReceivedFilter, ReasonGroupFilter)
    # The search box needs a field listed; get_search_results decides what a term matches.
    search_fields = ("person",)
    search_help_text = (
        "The start of a user id or anonymous id (jane finds jane-42; an anonymous id also finds the "
        "user id it was identified as), of an event or page name, or of a messageId, case-sensitive; "
        "or an email address, whatever its case (the deliveries of the people who have it)."
    )
    ordering = ("-id",)
    # Received only: id order is received order, so either direction is an index read (LogChangeList).
    sortable_by = ("received",)
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
        # A log people can trust: no one removes a delivery from it by hand, superusers neither.
        return False

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.has_perm("delivery.change_delivery")

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
        if ReasonGroupFilter.parameter_name in request.GET:
            # A reason is read from each row itself, not from an index: count one page on, not ten.
            kwargs.setdefault("ahead", 1)
        return page_paginator(request, queryset, per_page, orphans=orphans, **kwargs)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(self.search_of(request, term).condition), False

    def search_of(self, request: HttpRequest, term: str) -> LogSearch:
        """The request's search, worked out once for the list and for the page's explanation of it."""
        search = getattr(request, "delivery_log_search", None)
        if search is None or search.term != term:
            search = request.delivery_log_search = log_search(term)
        return search

    def action_checkbox(self, delivery: Delivery) -> str:
        # Django's own renders a form widget through the template engine for each of the 100 rows, a
        # third of the log's time at a million rows; this writes the same input directly.
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" '
            'aria-label="Select this object for an action - {}">',
            ACTION_CHECKBOX_NAME,
            delivery.pk,
            delivery,
        )

    @admin.display(description="status")
    def status_badge(self, delivery: Delivery) -> str:
        return badge(delivery)

    @admin.display(description="destination")
    def destination_name(self, delivery: Delivery) -> str:
        return delivery.destination.name

    @admin.display(description="source")
    def source_name(self, delivery: Delivery) -> str:
        return delivery.source.name

    @admin.display(description="event")
    def event_summary(self, delivery: Delivery) -> str:
        return format_html(
            '<span class="delivery-type">{}</span> {}', delivery.message_type, delivery.event_name
        )

    @admin.display(description="attempts")
    def attempts(self, delivery: Delivery) -> str:
        if delivery.last_status_code is None:
            return str(delivery.attempt_count)
        return f"{delivery.attempt_count}, last {delivery.last_status_code}"

    @admin.display(description="person")
    def person_link(self, delivery: Delivery) -> str:
        if not delivery.person:
            return ""
        return format_html(
            '<a href="{}" title="Everything about this person">{}</a>',
            links.person_url(delivery.person),
            delivery.person,
        )

    @admin.display(description="received", ordering="id")
    def received(self, delivery: Delivery) -> str:
        return moment_html(delivery.created_at)

    @admin.display(description="replayed")
    def replayed(self, delivery: Delivery) -> str:
        if not delivery.replay_count:
            return ""
        times = "" if delivery.replay_count == 1 else f" {delivery.replay_count} times"
        return format_html(
            '<span class="delivery-replayed" title="last replayed {}">replayed{}</span>',
            f"{exact_time(delivery.replayed_at)} ({time_ago(delivery.replayed_at)})",
            times,
        )

    # --- Replay --------------------------------------------------------------------------------

    @admin.action(description="Retry / replay selected deliveries", permissions=["replay"])
    def replay_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        replayable = queryset.filter(status__in=REPLAYABLE).order_by("id")
        ids = list(replayable.values_list("id", flat=True)[:REPLAY_LIMIT])
        chosen = plan(ids)
        if request.POST.get("post") == "yes":
            perform(request, chosen, how="from the log's selection")
            return None
        selected = queryset.count()
        over_limit = replayable.count() - len(ids)
        # The plan counts only the replayable ones it was given; the rest of the selection is skipped.
        chosen = replace(chosen, asked=selected - over_limit)
        return confirmation(
            request,
            self.admin_site,
            chosen,
            what=f"You selected {selected:,} {plural(selected)}.",
            hidden=[("action", "replay_selected")],
            over_limit=over_limit,
            limit=REPLAY_LIMIT,
        )

    def replay_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Replay one delivery from its page: at once, unless later deliveries of the same person were
        delivered already, which the person is asked about first."""
        delivery = self.get_object(request, unquote(object_id))
        if delivery is None:
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        if not self.has_replay_permission(request):
            return HttpResponse("You may not replay deliveries.", status=403)
        chosen = plan([delivery.pk])
        back = HttpResponseRedirect(reverse("admin:delivery_delivery_change", args=[delivery.pk]))
        if chosen.unchangeable:
            self.message_user(
                request, f"Delivery {delivery.pk} is left out: {UNCHANGEABLE_WHY}.", messages.WARNING
            )
        elif not chosen.replayable:
            self.message_user(
                request,
                f"Delivery {delivery.pk} is {delivery.get_status_display().lower()}: only failed or "
                "filtered deliveries can be replayed.",
                messages.WARNING,
            )
        elif chosen.later and request.POST.get("post") != "yes":
            return confirmation(request, self.admin_site, chosen, what=f"Delivery {delivery.pk}.", hidden=[])
        else:
            perform(request, chosen, how="from its page", single=delivery.pk)
        return back

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
            "can_replay": self.has_replay_permission(request) and is_replayable(delivery),
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

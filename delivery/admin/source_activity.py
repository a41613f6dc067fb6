"""What a source has been receiving, on its admin pages: the last event received, a link to its live
events, a warning when it feeds no enabled destination, and its refused requests of the last 24 hours.

destinations/admin.py configures sources and lies below the delivery log, so it cannot read events;
this admin extends it with what the log knows and takes its place on the admin site (registered by
DeliveryConfig.ready()). The list stays one query for the page: the last event is a subquery per row
through the events' (source, -id) index, never a scan of the events.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from delivery.admin.live_events import last_event_received, refusal_counts, shown_time
from destinations.admin import SourceAdmin
from destinations.models import Destination, Source

NO_DESTINATION = "This source feeds no destination: events are stored but sent nowhere."


def add_destination_url(source: Source) -> str:
    """A new destination's form, with this source already chosen."""
    return f"{reverse('admin:destinations_destination_add')}?{urlencode({'sources': source.pk})}"


def live_url(source: Source) -> str:
    return reverse("admin:live_events", args=[source.pk])


class SourceActivityAdmin(SourceAdmin):
    list_display = [*SourceAdmin.list_display, "last_event_and_live_link"]
    readonly_fields = [*SourceAdmin.readonly_fields, "last_event", "refused_panel"]

    class Media:
        css = {"all": ["delivery/source_activity.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Source]:
        feeding = Destination.objects.filter(sources=OuterRef("pk"), enabled=True)
        return (
            super()
            .get_queryset(request)
            .annotate(last_event_at=last_event_received(), feeds_enabled=Exists(feeding))
        )

    def get_fields(self, request: HttpRequest, obj: Source | None = None) -> list[str]:
        fields = super().get_fields(request, obj)
        return fields if obj is None else [*fields, "last_event", "refused_panel"]

    @admin.display(description="destinations it feeds")
    def destination_links(self, source: Source) -> str:
        links = super().destination_links(source)
        if getattr(source, "feeds_enabled", True):
            return links
        return format_html(
            '{} <div class="cio-warning">{} <a href="{}">Add a destination</a></div>',
            links,
            NO_DESTINATION,
            add_destination_url(source),
        )

    @admin.display(description="last event received", ordering="last_event_at")
    def last_event(self, source: Source) -> str:
        received = getattr(source, "last_event_at", None)
        if received is None:
            return "never"
        return format_html('<time datetime="{}">{}</time>', received.isoformat(), shown_time(received))

    @admin.display(description="last event received", ordering="last_event_at")
    def last_event_and_live_link(self, source: Source) -> str:
        return format_html('{}<br><a href="{}">Live events</a>', self.last_event(source), live_url(source))

    @admin.display(description="refused (last 24 hours)")
    def refused_panel(self, source: Source) -> str:
        counts = refusal_counts(source.pk, timezone.now())
        if not counts:
            summary = format_html("{}", "none")
        else:
            reasons = ((row["status"], row["code"], row["count"]) for row in counts)
            summary = format_html(
                "<strong>{}</strong> ({})",
                sum(row["count"] for row in counts),
                format_html_join(", ", "{} <code>{}</code>: {}", reasons),
            )
        return format_html(
            '{} · <a href="{}">Live events and refused requests</a>', summary, live_url(source)
        )

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        unknown = sum(row["count"] for row in refusal_counts(None, timezone.now()))
        context = {
            **(extra_context or {}),
            "unknown_refused": unknown,
            "unknown_refused_url": reverse("admin:live_events_unknown"),
        }
        return super().changelist_view(request, extra_context=context)

    def render_change_form(
        self, request: HttpRequest, context: dict, *args, obj: Source | None = None, **kwargs
    ):
        if obj is not None:
            context["live_url"] = live_url(obj)
            if not obj.destinations.filter(enabled=True).exists():
                context["no_destination_warning"] = NO_DESTINATION
                context["add_destination_url"] = add_destination_url(obj)
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)


def register(site: admin.AdminSite) -> None:
    """Take the place of destinations' SourceAdmin on the site."""
    if site.is_registered(Source):
        site.unregister(Source)
    site.register(Source, SourceActivityAdmin)

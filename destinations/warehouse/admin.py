"""Warehouse sources and their runs in the admin: a run's counts, its progress while it runs, its
deliveries one click away. The connection URL is never shown (forms.WarehouseSourceForm)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from celery import current_app
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from cio_project.times import exact_time
from destinations.admin import SecretsNeverShown
from destinations.warehouse.connection import describe
from destinations.warehouse.forms import WarehouseSourceForm
from destinations.warehouse.models import SyncRun, WarehouseSource

# Named, not imported: the task lives in delivery.tasks, a layer above this one.
SYNC_TASK = "delivery.tasks.sync_warehouse"
RUNS_SHOWN = 10


def deliveries_url(run: SyncRun) -> str:
    """The delivery log, showing the deliveries this run stored (its source's, made while it ran)."""
    query = {
        "source__id__exact": str(run.warehouse_source.source_id),
        "created_at__gte": run.started_at.isoformat(),
    }
    if run.finished_at:
        query["created_at__lt"] = (run.finished_at + timedelta(seconds=1)).isoformat()
    return f"{reverse('admin:delivery_delivery_changelist')}?{urlencode(query)}"


def progress_bar(run: SyncRun) -> str:
    done = run.rows_read + run.rows_removed
    if run.state != SyncRun.State.RUNNING:
        return run.get_state_display()
    if not run.rows_total:
        return format_html("running: {} rows read", done)
    percent = min(100, round(100 * run.rows_read / run.rows_total))
    return format_html(
        '<progress max="100" value="{}"></progress> {}% ({} of {} rows)',
        percent,
        percent,
        run.rows_read,
        run.rows_total,
    )


@admin.register(WarehouseSource)
class WarehouseSourceAdmin(SecretsNeverShown, admin.ModelAdmin):
    form = WarehouseSourceForm
    list_display = ["name", "enabled", "kind", "mode", "every_minutes", "database", "last_run"]
    list_filter = ["enabled", "kind", "mode"]
    search_fields = ["name"]
    actions = ["sync_now", "dry_run"]
    readonly_fields = ["recent_runs"]
    fieldsets = [
        (None, {"fields": ["name", "enabled", "connection_url", "destinations"]}),
        ("What to read", {"fields": ["query", "identifier_column", "identifier"]}),
        (
            "What each row becomes",
            {
                "fields": [
                    "kind",
                    "event_name_column",
                    "event_name",
                    "timestamp_column",
                    "object_type_id",
                    "relationships_column",
                ]
            },
        ),
        ("When", {"fields": ["mode", "every_minutes"]}),
    ]

    def shown_fieldsets(self, request: HttpRequest, obj: WarehouseSource | None = None) -> list:
        if obj is None:
            return self.fieldsets
        return [*self.fieldsets, ("Runs", {"fields": ["recent_runs"]})]

    @admin.display(description=f"latest runs (the last {RUNS_SHOWN})")
    def recent_runs(self, warehouse: WarehouseSource) -> str:
        runs = warehouse.runs.order_by("-id")[:RUNS_SHOWN]
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">run {}</a></td>' + "<td>{}</td>" * 5 + "</tr>",
            (
                (
                    reverse("admin:warehouse_syncrun_change", args=[run.pk]),
                    run.pk,
                    exact_time(run.started_at),
                    progress_bar(run),
                    f"{run.rows_read} read, {run.rows_new} new, {run.rows_changed} changed, "
                    f"{run.rows_removed} removed, {run.rows_failed} failed",
                    "dry run" if run.dry_run else "",
                    run.error,
                )
                for run in runs
            ),
        )
        all_runs = (
            reverse("admin:warehouse_syncrun_changelist") + f"?warehouse_source__id__exact={warehouse.pk}"
        )
        return format_html('<table>{}</table><p><a href="{}">All runs</a></p>', rows or "", all_runs)

    def get_queryset(self, request: HttpRequest) -> QuerySet[WarehouseSource]:
        return super().get_queryset(request).select_related("source")

    @admin.display(description="database")
    def database(self, warehouse: WarehouseSource) -> str:
        return describe(warehouse.connection_url)

    @admin.display(description="last run")
    def last_run(self, warehouse: WarehouseSource) -> str:
        run = warehouse.runs.order_by("-id").first()
        if run is None:
            return "never"
        url = reverse("admin:warehouse_syncrun_change", args=[run.pk])
        return format_html('<a href="{}">{}</a>', url, progress_bar(run))

    @admin.action(description="Sync selected warehouse sources now")
    def sync_now(self, request: HttpRequest, queryset: QuerySet[WarehouseSource]) -> None:
        self.start_runs(request, queryset, dry_run=False)

    @admin.action(description="Dry run selected warehouse sources (counts and sample requests, nothing sent)")
    def dry_run(self, request: HttpRequest, queryset: QuerySet[WarehouseSource]) -> None:
        self.start_runs(request, queryset, dry_run=True)

    def start_runs(self, request: HttpRequest, queryset: QuerySet[WarehouseSource], dry_run: bool) -> None:
        """Send the worker a run of each source that can start one, and say which could not and why: a
        disabled source is not synced, and a source already syncing runs one run at a time."""
        running = set(
            SyncRun.objects.alive(timezone.now())
            .filter(warehouse_source__in=queryset)
            .values_list("warehouse_source_id", flat=True)
        )
        started, syncing, disabled = [], [], []
        for warehouse in queryset:
            if not warehouse.enabled:
                disabled.append(warehouse.name)
            elif warehouse.pk in running:
                syncing.append(warehouse.name)
            else:
                options = {"kwargs": {"dry_run": True}} if dry_run else {}
                current_app.send_task(SYNC_TASK, args=[warehouse.pk], **options)
                started.append(warehouse.name)
        kind = "dry run(s)" if dry_run else "sync(s)"
        parts = [f"Started {len(started)} {kind}" + (": see Sync runs." if started else ".")]
        if syncing:
            parts.append(f"Already syncing, not started again: {', '.join(syncing)}.")
        if disabled:
            parts.append(f"Disabled, not started: {', '.join(disabled)}.")
        level = messages.SUCCESS if started and not (syncing or disabled) else messages.WARNING
        self.message_user(request, " ".join(parts), level)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        form.save_destinations()


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "warehouse_source",
        "started_at",
        "finished_at",
        "state_and_progress",
        "dry_run",
        "rows_read",
        "rows_new",
        "rows_changed",
        "rows_removed",
        "rows_unchanged",
        "rows_failed",
        "events_stored",
        "deliveries",
    ]
    list_filter = ["state", "dry_run", "warehouse_source"]
    list_select_related = ["warehouse_source"]
    fields = [
        "warehouse_source",
        "state_and_progress",
        "dry_run",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "rows_total",
        "rows_read",
        "rows_new",
        "rows_changed",
        "rows_removed",
        "rows_unchanged",
        "rows_failed",
        "events_stored",
        "deliveries",
        "error",
        "failures",
        "samples",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SyncRun | None = None) -> bool:
        return False

    @admin.display(description="state")
    def state_and_progress(self, run: SyncRun) -> str:
        return progress_bar(run)

    @admin.display(description="deliveries")
    def deliveries(self, run: SyncRun) -> str:
        if run.dry_run:
            return "none (a dry run stores nothing)"
        return format_html('<a href="{}">its deliveries in the log</a>', deliveries_url(run))

"""Which warehouse sources are due: enabled, not running, and last started `every_minutes` ago or more."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Max, Q

from destinations.warehouse.models import SyncRun, WarehouseSource


def due_sources(now: datetime) -> list[int]:
    """Ids of the sources to sync now. A dry run does not count: it changed nothing. A run whose heartbeat
    stopped (its process was killed) does not hold its source back: the run started now takes over."""
    sources = WarehouseSource.objects.filter(enabled=True).annotate(
        last_started=Max("runs__started_at", filter=Q(runs__dry_run=False)),
    )
    running = set(SyncRun.objects.alive(now).values_list("warehouse_source_id", flat=True))
    return [
        source.pk
        for source in sources
        if source.pk not in running
        and (
            source.last_started is None
            or source.last_started + timedelta(minutes=source.every_minutes) <= now
        )
    ]

"""Celery tasks of the delivery engine. They take ids, re-read rows and may run twice or die anywhere."""

from __future__ import annotations

import contextlib
import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from delivery.engine import doorbell, sweeper
from delivery.engine import loop as engine
from delivery.warehouse import schedule
from delivery.warehouse import sync as warehouse_sync
from destinations.warehouse.models import SyncRun, WarehouseSource

logger = logging.getLogger(__name__)


@shared_task(name="delivery.tasks.deliver", ignore_result=True)
def deliver(destination_id: int) -> None:
    """Deliver a destination's due work (sent by delivery.engine.doorbell.ring)."""
    doorbell.answer(destination_id)
    engine.deliver_due(destination_id)


@shared_task(name="delivery.tasks.sweep", ignore_result=True)
def sweep() -> None:
    """Every DELIVERY_SWEEP_INTERVAL_SECONDS (Celery beat): stale claims and due retries."""
    sweeper.sweep()


@shared_task(name="delivery.tasks.delete_old_deliveries", ignore_result=True)
def delete_old_deliveries() -> None:
    """Every DELIVERY_RETENTION_INTERVAL_SECONDS (Celery beat): one batch of old deliveries, one of old
    message activity and one of old refused requests, then again until none has any left."""
    deleted = (
        sweeper.delete_old_deliveries(),
        sweeper.delete_old_message_activity(),
        sweeper.delete_old_refusals(),
    )
    if max(deleted) >= settings.DELIVERY_RETENTION_BATCH:
        delete_old_deliveries.delay()


@shared_task(name="delivery.tasks.sync_due_warehouses", ignore_result=True)
def sync_due_warehouses() -> None:
    """Every WAREHOUSE_SCHEDULE_SECONDS (Celery beat): start a sync of each warehouse source due."""
    for warehouse_source_id in schedule.due_sources(timezone.now()):
        sync_warehouse.delay(warehouse_source_id)


@shared_task(name="delivery.tasks.sync_warehouse", ignore_result=True)
def sync_warehouse(warehouse_source_id: int, dry_run: bool = False) -> None:
    """One sync run of a warehouse source; a second one sent meanwhile finds it running and stops."""
    source = WarehouseSource.objects.filter(pk=warehouse_source_id, enabled=True).first()
    if source is None:
        return
    with contextlib.suppress(warehouse_sync.AlreadyRunning):
        run = warehouse_sync.sync(source, dry_run=dry_run)
        # Here, not in sync(): `manage.py sync_warehouse` says it in its one line on stderr.
        if run.state == SyncRun.State.FAILED:
            logger.warning("warehouse source %s: run %s failed: %s", source.name, run.pk, run.error)

"""Celery tasks of the delivery engine. They take ids, re-read rows and may run twice or die anywhere."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from delivery.engine import doorbell, sweeper
from delivery.engine import loop as engine


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
    """Every DELIVERY_RETENTION_INTERVAL_SECONDS (Celery beat): one batch of old deliveries and one of old
    message activity, then again until neither has any left."""
    deleted = sweeper.delete_old_deliveries(), sweeper.delete_old_message_activity()
    if max(deleted) >= settings.DELIVERY_RETENTION_BATCH:
        delete_old_deliveries.delay()

"""Wake the delivery workers: "destination N has new work" (DESIGN.md invariant 2: a doorbell, not the truth).

On Redis, a short-lived key per destination makes repeated rings while a delivery task is still
queued cost nothing: the task clears the key when it starts (answer()), so work committed after that
rings again. Ringing never raises: if the broker is down, the sweeper finds the work in the database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from cio_project.celery_app import app as celery_app
from delivery.shared_state import redis_client

logger = logging.getLogger(__name__)

DELIVER_TASK = "delivery.tasks.deliver"
# Long enough to absorb a burst of rings, short enough that a lost task message is re-sent soon.
RING_TTL_MS = 5000


def _key(destination_id: int) -> str:
    return f"cio-relay:doorbell:{destination_id}"


def ring(destination_ids: Iterable[int], *, force: bool = False) -> None:
    """Ask a worker to deliver for these destinations. `force` skips the de-duplication of rings."""
    client = redis_client()
    for destination_id in set(destination_ids):
        try:
            if (
                client is not None
                and not force
                and not client.set(_key(destination_id), 1, nx=True, px=RING_TTL_MS)
            ):
                continue
            celery_app.send_task(DELIVER_TASK, args=[destination_id])
        except Exception as error:  # broker or Redis down: the sweeper re-dispatches from the database
            logger.warning("could not ring the doorbell for destination %s: %s", destination_id, error)


def answer(destination_id: int) -> None:
    """Called by the delivery task as it starts, so rings for work committed from now on get through."""
    client = redis_client()
    if client is None:
        return
    try:
        client.delete(_key(destination_id))
    except Exception as error:  # the key expires by itself
        logger.warning("could not clear the doorbell for destination %s: %s", destination_id, error)

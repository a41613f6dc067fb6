"""Wake the delivery workers: "destination N has new work" (DESIGN.md invariant 2: a doorbell, not the truth).

Two layers keep a busy ingestion API from ringing once per request:
- in each process, rings for a destination within COALESCE_SECONDS of the last one are merged and go
  out together when that window ends (a trailing ring), so work committed in the window still rings;
- on Redis, a short-lived key per destination makes rings from every process cost nothing while a
  delivery task is still queued: the task clears the key when it starts (answer()), so work committed
  after that rings again.
Ringing never raises: if the broker is down, the sweeper finds the work in the database.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from cio_project.celery_app import app as celery_app
from delivery.redis_client import redis_client

logger = logging.getLogger(__name__)

DELIVER_TASK = "delivery.tasks.deliver"
# Long enough to absorb a burst of rings, short enough that a lost task message is re-sent soon.
RING_TTL_MS = 5000
# Short against the time a delivery takes anyway; long enough to merge the rings of a request burst.
COALESCE_SECONDS = 0.05


def _key(destination_id: int) -> str:
    return f"cio-relay:doorbell:{destination_id}"


class Coalescer:
    """Merges one process's rings per destination: the first at once, the rest at the window's end."""

    def __init__(self, window: float, send: Callable[[set[int]], None]) -> None:
        self._window = window
        self._send = send
        self._lock = threading.Lock()
        self._last_sent: dict[int, float] = {}
        self._deferred: set[int] = set()
        self._timer: threading.Timer | None = None

    def ring(self, destination_ids: Iterable[int]) -> None:
        ids = set(destination_ids)
        now = time.monotonic()
        with self._lock:
            due = {id_ for id_ in ids if now - self._last_sent.get(id_, -self._window) >= self._window}
            self._deferred.update(ids - due)
            for id_ in due:
                self._last_sent[id_] = now
            if self._deferred and self._timer is None:
                self._timer = threading.Timer(self._window, self._flush)
                self._timer.daemon = True
                self._timer.start()
        if due:
            self._send(due)

    def _flush(self) -> None:
        with self._lock:
            deferred, self._deferred, self._timer = self._deferred, set(), None
            now = time.monotonic()
            for id_ in deferred:
                self._last_sent[id_] = now
        if deferred:
            self._send(deferred)


def ring(destination_ids: Iterable[int], *, force: bool = False) -> None:
    """Ask a worker to deliver for these destinations.

    `force` (workers and the sweeper) rings at once, past both layers of de-duplication.
    """
    if force:
        _publish(set(destination_ids), force=True)
    else:
        _coalescer.ring(destination_ids)


def _publish(destination_ids: set[int], *, force: bool = False) -> None:
    client = redis_client()
    for destination_id in destination_ids:
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


_coalescer = Coalescer(COALESCE_SECONDS, _publish)


def answer(destination_id: int) -> None:
    """Called by the delivery task as it starts, so rings for work committed from now on get through."""
    client = redis_client()
    if client is None:
        return
    try:
        client.delete(_key(destination_id))
    except Exception as error:  # the key expires by itself
        logger.warning("could not clear the doorbell for destination %s: %s", destination_id, error)

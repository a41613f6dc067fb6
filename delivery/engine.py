"""The delivery loop of one task run: claim due work, filter, transform, batch, send, record, repeat.

Called by delivery.tasks.deliver. Everything it needs is re-read from the database, so a run can
be repeated or killed at any line: killed, its claims go stale and the sweeper releases them.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

from django.conf import settings

from delivery import claims, doorbell
from delivery.filters import filter_reason
from delivery.models import Delivery
from delivery.ratelimit import RateLimiter, limiter
from delivery.recording import Recorder
from delivery.sending import Outbound, Pace, send_all
from destinations.customerio import TransformConfig, TransformError, combine, transform
from destinations.models import Destination

logger = logging.getLogger(__name__)

# In v1 mode a claim holds about this many seconds of requests at the destination's rate, so a
# slow rate never makes a claim outlive DELIVERY_CLAIM_TIMEOUT.
CLAIM_SECONDS_OF_WORK = 5


@dataclass(frozen=True)
class Run:
    """One task run's fixed parts."""

    token: str
    pool: ThreadPoolExecutor
    limiter: RateLimiter


@cache
def _senders() -> ThreadPoolExecutor:
    """One pool per worker process, created on first use (after the fork), so its threads and
    their keep-alive connections to Customer.io outlive a single task run."""
    return ThreadPoolExecutor(max_workers=settings.DELIVERY_SEND_CONCURRENCY, thread_name_prefix="cio-send")


def deliver_due(destination_id: int) -> None:
    """Deliver the destination's due work until none is left or DELIVERY_TASK_BUDGET is spent."""
    deadline = time.monotonic() + settings.DELIVERY_TASK_BUDGET
    run = Run(claims.new_token(), _senders(), limiter())
    asked_for_help = False
    while time.monotonic() < deadline:
        destination = Destination.objects.filter(pk=destination_id).first()
        if destination is None or run.limiter.delay(destination_id) > settings.DELIVERY_RATE_LIMIT_MAX_WAIT:
            return  # gone, or held back by a 429: the sweeper rings again
        size = claim_size(destination)
        ids = claims.claim(destination, run.token, size)
        if not ids:
            return
        if len(ids) == size and not asked_for_help:
            # More is due than one claim holds: let an idle worker take the next claim meanwhile.
            doorbell.ring([destination_id], force=True)
            asked_for_help = True
        if not process_claim(destination, ids, run):
            return


def claim_size(destination: Destination) -> int:
    if destination.api_version == Destination.ApiVersion.V2:
        return settings.DELIVERY_CLAIM_SIZE
    return max(
        1, min(settings.DELIVERY_CLAIM_SIZE, destination.rate_limit_per_second * CLAIM_SECONDS_OF_WORK)
    )


def send_concurrency(destination: Destination) -> int:
    """Requests in flight at once: no more than the rate limiter grants within half the longest
    wait, so a slow rate makes a worker send fewer at a time rather than give its claims up."""
    granted = int(destination.rate_limit_per_second * settings.DELIVERY_RATE_LIMIT_MAX_WAIT / 2)
    return max(1, min(settings.DELIVERY_SEND_CONCURRENCY, granted))


def process_claim(destination: Destination, ids: list[int], run: Run) -> bool:
    """Take claimed deliveries through every stage. False when the rate limiter said stop."""
    recorder = Recorder(destination, run.token)
    try:
        deliveries = list(
            Delivery.objects.filter(id__in=ids, claimed_by=run.token).select_related("event").order_by("id")
        )
        entries = _prepare(destination, deliveries, recorder)
        recorder.flush()
        if not entries:
            return True
        return _send(destination, entries, deliveries, recorder, run)
    except BaseException:
        # Whatever went wrong, give the rest back now rather than after the claim timeout.
        logger.exception("delivery for destination %s stopped; releasing its claims", destination.pk)
        claims.release(ids, run.token)
        raise


def _prepare(destination: Destination, deliveries: list[Delivery], recorder: Recorder) -> list[tuple]:
    """Filter and transform; returns combine()'s entries for what is left to send."""
    entries: list[tuple] = []
    config: TransformConfig | TransformError
    try:
        config = TransformConfig.from_mapping(destination.transformer_config())
    except TransformError as error:  # every delivery fails with it, unless a filter drops it first
        config = error
    for delivery in deliveries:
        message = delivery.event.payload
        reason = filter_reason(message, destination)
        if reason:
            recorder.filtered(delivery, reason)
            continue
        try:
            requests = _transform(message, config)
        except TransformError as error:
            recorder.failed_before_sending(delivery, _say_transform_error(error))
            continue
        if not requests:
            recorder.filtered(delivery, "Filtered: the transformer made no request for this event")
            continue
        recorder.expect(delivery, requests)
        entries.extend((delivery.pk, delivery.person, request) for request in requests)
    return entries


def _transform(message: dict, config: TransformConfig | TransformError) -> list:
    if isinstance(config, TransformError):
        raise config
    return transform(message, config)


def _say_transform_error(error: TransformError) -> str:
    return f"{error.kind.capitalize()} error: {error.message}"


def _send(
    destination: Destination, entries: list[tuple], deliveries: list[Delivery], recorder: Recorder, run: Run
) -> bool:
    people = {delivery.pk: _ordering_key(destination, delivery) for delivery in deliveries}
    outbound = _outbound(entries)
    recorder.carried_by(outbound)
    keys = [frozenset(people[ref] for ref in parcel.refs) for parcel in outbound]

    def on_exchange(exchange) -> None:
        recorder.exchange(exchange)
        if exchange.verdict.throttled:
            _hold(
                run.limiter,
                destination.pk,
                exchange.verdict.retry_after or settings.DELIVERY_RETRY_BASE_DELAY,
            )
        recorder.flush_if_due()

    pace = Pace(
        limiter=run.limiter,
        destination_id=destination.pk,
        per_second=destination.rate_limit_per_second,
        max_wait=settings.DELIVERY_RATE_LIMIT_MAX_WAIT,
        concurrency=send_concurrency(destination),
        deadline=time.monotonic() + settings.DELIVERY_CLAIM_TIMEOUT.total_seconds() / 2,
    )
    report = send_all(outbound, keys, pool=run.pool, pace=pace, on_exchange=on_exchange)
    recorder.release(report.released_refs)
    recorder.flush()
    return not report.rate_limited


def _hold(limiter: RateLimiter, destination_id: int, seconds: float) -> None:
    """Hold every worker back after a 429, as far as the limiter can. The throttled deliveries wait in
    next_attempt_at anyway, so a limiter that cannot answer (Redis is down) only costs the hold;
    raising here would abandon the requests in flight, and the next claim would send them again."""
    try:
        limiter.hold(destination_id, seconds)
    except Exception as error:  # redis-py raises several types
        logger.warning("rate limiter unavailable, destination %s not held back: %s", destination_id, error)


def _outbound(entries: list[tuple]) -> list[Outbound]:
    """combine()'s requests, each with the delivery behind every batch item.

    combine() puts the very item objects of the entries into its batches, so an item's identity
    leads back to its delivery, however the entries were split or merged.
    """
    owner = {
        id(item): ref for ref, _, request in entries if request.is_batch for item in request.body["batch"]
    }
    outbound = []
    for refs, request in combine(entries):
        item_refs = [owner[id(item)] for item in request.body["batch"]] if request.is_batch else None
        outbound.append(Outbound(request, list(dict.fromkeys(refs)), item_refs))
    return outbound


def _ordering_key(destination: Destination, delivery: Delivery) -> str:
    """Requests with a key in common go one after another. A delivery always keeps its own order."""
    if destination.strict_ordering and delivery.person:
        return f"person:{delivery.person}"
    return f"delivery:{delivery.pk}"

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

from delivery.engine import claims, doorbell
from delivery.engine.filters import filter_reason
from delivery.engine.ratelimit import RateLimiter, limiter
from delivery.engine.recording import Recorder
from delivery.engine.sending import Pace, send_all
from delivery.models import Delivery
from destinations.customerio import Combined, Stream, TransformError, failing, transform_stream
from destinations.models import Destination
from destinations.rudderstack_config import transform_config

logger = logging.getLogger(__name__)

# In v1 mode a claim holds about this many seconds of requests at the destination's rate, so a
# slow rate never makes a claim outlive DELIVERY_CLAIM_TIMEOUT_SECONDS.
CLAIM_SECONDS_OF_WORK = 5
NO_REQUEST = "Filtered: the transformer made no request for this event"


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
    """Deliver the destination's due work until none is left or DELIVERY_TASK_BUDGET_SECONDS is spent."""
    deadline = time.monotonic() + settings.DELIVERY_TASK_BUDGET_SECONDS
    run = Run(claims.new_token(), _senders(), limiter())
    asked_for_help = False
    while time.monotonic() < deadline:
        destination = Destination.objects.filter(pk=destination_id).first()
        if (
            destination is None
            or run.limiter.delay(destination_id) > settings.DELIVERY_RATE_LIMIT_MAX_WAIT_SECONDS
        ):
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
    granted = int(destination.rate_limit_per_second * settings.DELIVERY_RATE_LIMIT_MAX_WAIT_SECONDS / 2)
    return max(1, min(settings.DELIVERY_SEND_CONCURRENCY, granted))


def process_claim(destination: Destination, ids: list[int], run: Run) -> bool:
    """Take claimed deliveries through every stage. False when the rate limiter said stop."""
    recorder = Recorder(destination, run.token)
    try:
        deliveries = list(
            Delivery.objects.filter(id__in=ids, claimed_by=run.token).select_related("event").order_by("id")
        )
        stream = _prepare(destination, deliveries, recorder)
        recorder.flush()
        if not stream.sent:
            return True
        return _send(destination, stream.sent, deliveries, recorder, run)
    except BaseException:
        # Whatever went wrong, give the rest back now rather than after the claim timeout.
        logger.exception("delivery for destination %s stopped; releasing its claims", destination.pk)
        claims.release(ids, run.token)
        raise


def _prepare(destination: Destination, deliveries: list[Delivery], recorder: Recorder) -> Stream[int]:
    """Filter, then transform and combine what is left, through the transformer's stream path."""
    messages: dict[int, dict] = {}
    by_id = {delivery.pk: delivery for delivery in deliveries}
    for delivery in deliveries:
        reason = filter_reason(delivery.event.payload, destination)
        if reason:
            recorder.filtered(delivery, reason)
        else:
            messages[delivery.pk] = delivery.event.payload
    try:
        stream = transform_stream(messages, transform_config(destination))
    except TransformError as error:  # settings that cannot be read fail every delivery left
        stream = failing(messages, error)
    for delivery_id, error in stream.failed.items():
        recorder.failed_before_sending(by_id[delivery_id], f"{error.title}: {error.message}")
    for delivery_id, requests in stream.requests.items():
        if requests:
            recorder.expect(by_id[delivery_id], requests)
        else:
            recorder.filtered(by_id[delivery_id], NO_REQUEST)
    return stream


def _send(
    destination: Destination,
    outbound: list[Combined[int]],
    deliveries: list[Delivery],
    recorder: Recorder,
    run: Run,
) -> bool:
    people = {delivery.pk: _ordering_key(destination, delivery) for delivery in deliveries}
    recorder.carried_by(outbound)
    keys = [frozenset(people[ref] for ref in combined.refs) for combined in outbound]

    def on_exchange(exchange) -> None:
        recorder.exchange(exchange)
        if exchange.verdict.throttled:
            _hold(
                run.limiter,
                destination.pk,
                exchange.verdict.retry_after or settings.DELIVERY_RETRY_BASE_SECONDS,
            )
        recorder.flush_if_due()

    pace = Pace(
        limiter=run.limiter,
        destination_id=destination.pk,
        per_second=destination.rate_limit_per_second,
        max_wait=settings.DELIVERY_RATE_LIMIT_MAX_WAIT_SECONDS,
        concurrency=send_concurrency(destination),
        deadline=time.monotonic() + settings.DELIVERY_CLAIM_TIMEOUT_SECONDS / 2,
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


def _ordering_key(destination: Destination, delivery: Delivery) -> str:
    """Requests with a key in common go one after another. A delivery always keeps its own order."""
    if destination.strict_ordering and delivery.person:
        return f"person:{delivery.person}"
    return f"delivery:{delivery.pk}"

"""Writing what happened into the delivery log, in bulk, conditional on still holding the claim.

One SentRequest row per HTTP request, one DeliveryAttempt per delivery it carried, and each delivery's
new state once all its requests have an outcome. Writes are buffered and flushed in short
transactions (never across an HTTP call), every FLUSH_INTERVAL seconds and at the end, so a worker
killed mid-claim leaves little unrecorded: only sends whose result was not written yet are sent
again, which is the one duplicate DESIGN.md invariant 7 allows.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cio_project import metrics
from cio_project.log_redaction import excerpt
from delivery.engine import claims, retry
from delivery.engine.bulk import update_rows
from delivery.engine.sending import SEVERITY, Exchange
from delivery.models import Delivery, DeliveryAttempt, SentRequest
from destinations.customerio import Combined
from destinations.models import Destination
from destinations.track_api.answers import Outcome, credentials_health
from destinations.track_api.transport import Sendable, redacted_headers

FLUSH_INTERVAL = 0.25
UPDATED_FIELDS = [
    "status",
    "attempt_count",
    "first_attempt_at",
    "run_attempt_count",
    "run_first_attempt_at",
    "last_attempt_at",
    "last_status_code",
    "reason",
    "requests",
    "next_attempt_at",
    "finished_at",
    "claimed_at",
    "claimed_by",
]


logger = logging.getLogger(__name__)


@dataclass
class _Progress:
    """A delivery whose requests are out: what came back so far."""

    delivery: Delivery
    unresolved: int
    snapshots: list[dict]
    outcome: Outcome = Outcome.DELIVERED
    reason: str = ""
    retry_after: float | None = None
    first_sent_at: datetime | None = None
    last_sent_at: datetime | None = None
    last_status: int | None = None


@dataclass
class _Health:
    delivered_at: datetime | None = None
    error: str = ""
    error_at: datetime | None = None
    credentials: dict = field(default_factory=dict)  # the latest word on them (credentials_health)


@dataclass
class Recorder:
    """The delivery log's side of one claim: collects outcomes as they come, writes them in flushes."""

    destination: Destination
    token: str
    _progress: dict[int, _Progress] = field(default_factory=dict)
    _exchanges: list[Exchange] = field(default_factory=list)
    _finished: list[Delivery] = field(default_factory=list)
    _released: set[int] = field(default_factory=set)
    _health: _Health = field(default_factory=_Health)
    _flushed_at: float = field(default_factory=time.monotonic)

    def filtered(self, delivery: Delivery, reason: str) -> None:
        self._finish(delivery, Delivery.Status.FILTERED, reason)

    def failed_before_sending(self, delivery: Delivery, reason: str) -> None:
        self._finish(delivery, Delivery.Status.FAILED, reason)

    def expect(self, delivery: Delivery, requests: list) -> None:
        snapshots = [request_snapshot(request) for request in requests]
        self._progress[delivery.pk] = _Progress(delivery, 0, snapshots)

    def carried_by(self, outbound: list[Combined[int]]) -> None:
        """A delivery is done when every combined request carrying a part of it is."""
        for parcel in outbound:
            for ref in parcel.refs:
                self._progress[ref].unresolved += 1

    def exchange(self, exchange: Exchange) -> None:
        self._exchanges.append(exchange)
        result, verdict = exchange.result, exchange.verdict
        destination = str(self.destination.pk)
        metrics.CUSTOMERIO_ANSWERS.labels(destination, metrics.answer_class(result.status)).inc()
        metrics.SEND_SECONDS.labels(destination).observe(result.duration)
        for ref, (outcome, reason) in exchange.outcomes().items():
            progress = self._progress[ref]
            if SEVERITY[outcome] > SEVERITY[progress.outcome]:
                progress.outcome, progress.reason, progress.retry_after = outcome, reason, verdict.retry_after
            progress.first_sent_at = progress.first_sent_at or result.started_at
            progress.last_sent_at, progress.last_status = result.started_at, result.status
            self._resolve(ref)
        self._note_health(exchange)

    def release(self, refs: set[int]) -> None:
        for ref in refs:
            if self._progress.pop(ref, None) is not None:
                self._released.add(ref)

    def flush_if_due(self) -> None:
        if time.monotonic() - self._flushed_at >= FLUSH_INTERVAL:
            self.flush()

    def flush(self) -> None:
        self._flushed_at = time.monotonic()
        if not (self._exchanges or self._finished or self._released):
            return
        exchanges, finished, released = self._exchanges, self._finished, self._released
        self._exchanges, self._finished, self._released = [], [], set()
        with transaction.atomic():
            self._write_attempts(exchanges)
            update_rows(finished, UPDATED_FIELDS, only_if=("claimed_by", self.token))
            claims.release(released, self.token)
            self._write_health()

    def _resolve(self, ref: int) -> None:
        progress = self._progress[ref]
        progress.unresolved -= 1
        if progress.unresolved:
            return
        del self._progress[ref]
        delivery = progress.delivery
        delivery.attempt_count += 1
        delivery.first_attempt_at = delivery.first_attempt_at or progress.first_sent_at
        delivery.run_attempt_count += 1
        delivery.run_first_attempt_at = delivery.run_first_attempt_at or progress.first_sent_at
        delivery.last_attempt_at = progress.last_sent_at
        delivery.last_status_code = progress.last_status
        delivery.requests = progress.snapshots
        if progress.outcome == Outcome.RETRY:
            self._retry_or_give_up(delivery, progress)
        else:
            status = (
                Delivery.Status.DELIVERED if progress.outcome == Outcome.DELIVERED else Delivery.Status.FAILED
            )
            self._finish(delivery, status, progress.reason)

    def _retry_or_give_up(self, delivery: Delivery, progress: _Progress) -> None:
        # The horizon is the current run's: a replay gives a delivery a full horizon again.
        now = timezone.now()
        timing = {
            "attempts": delivery.run_attempt_count,
            "first_attempt_at": delivery.run_first_attempt_at or now,
            "now": now,
            "horizon": self.destination.retry_horizon,
        }
        try:
            due = retry.next_attempt_at(**timing, retry_after=progress.retry_after)
        except (OverflowError, ValueError):
            # An answer's wait no date can hold: this attempt is still recorded, and the delivery waits
            # the usual backoff, rather than its claim being dropped and the event sent again at once.
            due = retry.next_attempt_at(**timing)
        if due is None:
            spent = _say_duration(now - (delivery.run_first_attempt_at or now))
            attempts = delivery.run_attempt_count
            reason = f"Gave up after {attempts} attempts over {spent}. Last: {progress.reason}"
            self._finish(delivery, Delivery.Status.FAILED, reason)
            return
        delivery.status, delivery.reason, delivery.next_attempt_at = (
            Delivery.Status.RETRYING,
            progress.reason,
            due,
        )
        delivery.claimed_at, delivery.claimed_by = None, ""
        self._finished.append(delivery)
        metrics.DELIVERY_RETRIES.labels(str(self.destination.pk)).inc()
        _log_outcome(delivery)

    def _finish(self, delivery: Delivery, status: str, reason: str) -> None:
        delivery.status, delivery.reason, delivery.finished_at = status, reason, timezone.now()
        delivery.claimed_at, delivery.claimed_by = None, ""
        self._finished.append(delivery)
        metrics.DELIVERIES_FINISHED.labels(str(self.destination.pk), status).inc()
        _log_outcome(delivery)

    def _write_attempts(self, exchanges: list[Exchange]) -> None:
        sent = SentRequest.objects.bulk_create(
            _sent_request_row(self.destination, exchange) for exchange in exchanges
        )
        attempts = [
            DeliveryAttempt(delivery_id=ref, sent_request=row, outcome=outcome, error=reason)
            for row, exchange in zip(sent, exchanges, strict=True)
            for ref, (outcome, reason) in exchange.outcomes().items()
        ]
        DeliveryAttempt.objects.bulk_create(attempts)

    def _note_health(self, exchange: Exchange) -> None:
        at, verdict = exchange.result.started_at, exchange.verdict
        self._health.credentials.update(credentials_health(verdict, at))
        if verdict.outcome == Outcome.DELIVERED:
            self._health.delivered_at = at
        else:
            self._health.error, self._health.error_at = verdict.reason, at

    def _write_health(self) -> None:
        health, self._health = self._health, _Health()
        fields: dict = {}
        if health.delivered_at:
            fields["last_delivered_at"] = health.delivered_at
        if health.error_at:
            fields.update(last_error=health.error, last_error_at=health.error_at)
        fields.update(health.credentials)
        if fields:
            Destination.objects.filter(pk=self.destination.pk).update(**fields)


def _sent_request_row(destination: Destination, exchange: Exchange) -> SentRequest:
    result = exchange.result
    return SentRequest(
        destination=destination,
        started_at=result.started_at,
        duration_ms=round(result.duration * 1000),
        method=result.method,
        url=result.url,
        request_headers=result.request_headers,
        request_body=result.request_body,
        status_code=result.status,
        response_body=excerpt(result.response_body, settings.DELIVERY_RESPONSE_BODY_LIMIT),
        error=excerpt(result.error, settings.DELIVERY_RESPONSE_BODY_LIMIT),
    )


def _say_duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds / 3600:.1f} h"


def _log_outcome(delivery: Delivery) -> None:
    """One line per finished or retried delivery, with the id of the HTTP request that stored its event
    (LOG_LEVEL=WARNING leaves these out)."""
    if not logger.isEnabledFor(logging.INFO):
        return
    logger.info(
        "delivery %s to destination %s %s%s",
        delivery.pk,
        delivery.destination_id,
        delivery.status,
        f": {delivery.reason}" if delivery.reason else "",
        extra={"request_id": delivery.event.request_id, "delivery_id": delivery.pk},
    )


def request_snapshot(request: Sendable) -> dict[str, Any]:
    """A request as the transformer made it, for Delivery.requests: Authorization redacted."""
    snapshot = {
        "method": request.method,
        "endpoint": request.endpoint,
        "headers": redacted_headers(request.headers),
        "body": request.body,
    }
    notes = getattr(request, "notes", ())
    if notes:
        snapshot["notes"] = list(notes)  # what the transformer left out, and why
    return snapshot

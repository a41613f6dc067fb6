"""A delivery's page: the event, the exact requests, every attempt, the person's neighbouring deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.dateparse import parse_datetime

from cio_project.log_redaction import redact
from delivery.admin.display import badge, change_link, pretty
from delivery.models import Delivery, DeliveryAttempt
from destinations.track_api.transport import UnknownHostError, redacted_headers, resolve_url

# Deliveries shown before and after the current one in a person's history on the detail page.
NEIGHBOURS = 5


def detail_context(delivery: Delivery) -> dict[str, Any]:
    """Everything the detail page shows about one delivery, read in a few indexed queries."""
    siblings = delivery.event.deliveries.exclude(pk=delivery.pk)
    replayed = replays(delivery)
    attempts = delivery.attempts.select_related("sent_request").order_by(
        "sent_request__started_at", "sent_request_id"
    )
    return {
        "status_badge": badge(delivery),
        "destination_link": change_link("admin:destinations_destination_change", delivery.destination),
        "source_link": change_link("admin:destinations_source_change", delivery.source),
        "dashboard_url": reverse("admin:destination_dashboard", args=[delivery.destination_id]),
        # Named as the log names it, so the tester cannot take it for an event id.
        "tester_url": reverse("admin:event_tester")
        + "?"
        + urlencode({"event": f"delivery {delivery.pk}", "destination": delivery.destination_id}),
        "event": delivery.event,
        "event_json": pretty(delivery.event.payload),
        "requests": [pretty(request) for request in shown_requests(delivery.requests)],
        "left_out": left_out(delivery.requests),
        "attempts": history([attempt_row(attempt) for attempt in attempts], replayed),
        "replays": replayed,
        "neighbours": neighbours(delivery),
        "siblings": siblings.select_related("destination").order_by("id"),
    }


def attempt_row(attempt: DeliveryAttempt) -> dict[str, Any]:
    """One attempt of the delivery: the request that carried it, its answer, and what it meant here."""
    sent = attempt.sent_request
    return {
        "started_at": sent.started_at,
        "duration_ms": sent.duration_ms,
        "method": sent.method,
        "url": redact(sent.url),
        "status_code": sent.status_code,
        "response_body": redact(sent.response_body),
        "error": redact(attempt.error or sent.error),
        "outcome": attempt.get_outcome_display(),
        "outcome_value": attempt.outcome,
    }


def replays(delivery: Delivery) -> list[dict[str, Any]]:
    """Each replay of the delivery, oldest first: when, by whom, and the run it started (the first run
    is 1)."""
    noted = delivery.replays if isinstance(delivery.replays, list) else []
    found = []
    for note in noted:
        at = parse_datetime(note.get("at", "")) if isinstance(note, dict) else None
        if at is not None:
            found.append({"kind": "replay", "at": at, "by": note.get("by") or "", "run": len(found) + 2})
    return found


def history(attempts: list[dict[str, Any]], replayed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every attempt of every run and a row for each replay between them, in time order; each
    attempt knows its run, and whether that is the current one (the last replay's, or the only one)."""
    rows: list[dict[str, Any]] = []
    pending = list(replayed)
    run = 1
    for attempt in attempts:
        while pending and pending[0]["at"] <= attempt["started_at"]:
            rows.append(pending.pop(0))
            run += 1
        rows.append({**attempt, "kind": "attempt", "run": run})
    rows.extend(pending)
    current = len(replayed) + 1
    for row in rows:
        row["current_run"] = row["run"] == current
    return rows


def neighbours(delivery: Delivery) -> list[Delivery]:
    """The person's deliveries to the same destination around this one, oldest first (id order: the
    order received). Each knows whether Customer.io got it after one received later (a replay does
    that), so the page does not claim an order Customer.io did not see."""
    if not delivery.person:
        return []
    same = Delivery.objects.filter(destination_id=delivery.destination_id, person=delivery.person)
    fields = ("id", "status", "message_type", "event_name", "created_at", "last_status_code")
    fields += ("last_attempt_at",)
    before = list(same.filter(id__lt=delivery.pk).order_by("-id").only(*fields)[:NEIGHBOURS])
    after = list(same.filter(id__gt=delivery.pk).order_by("id").only(*fields)[:NEIGHBOURS])
    shown = [*reversed(before), delivery, *after]
    for index, neighbour in enumerate(shown):
        neighbour.sent_after_a_later_one = any(
            _delivered_before(later, neighbour) for later in shown[index + 1 :]
        )
    return shown


def _delivered_before(later: Delivery, earlier: Delivery) -> bool:
    delivered = Delivery.Status.DELIVERED
    if later.status != delivered or earlier.status != delivered:
        return False
    at, other = later.last_attempt_at, earlier.last_attempt_at
    return isinstance(at, datetime) and isinstance(other, datetime) and at < other


def shown_requests(requests: Any) -> list[dict]:
    """Delivery.requests as they went out: to the configured base URL, Authorization masked whatever
    wrote them (recording already masks it)."""
    shown = []
    for request in requests if isinstance(requests, list) else []:
        if not isinstance(request, dict):
            continue
        headers = request.get("headers") if isinstance(request.get("headers"), dict) else {}
        endpoint = sent_to(request.get("endpoint"))
        shown.append({**request, "endpoint": endpoint, "headers": redacted_headers(headers)})
    return shown


def left_out(requests: Any) -> list[str]:
    """What the transformer left out of the delivery's requests and why (a date it could not read)."""
    notes: list[str] = []
    for request in requests if isinstance(requests, list) else []:
        found = request.get("notes") if isinstance(request, dict) else None
        notes.extend(redact(note) for note in found or () if isinstance(note, str) and note not in notes)
    return notes


def sent_to(endpoint: Any) -> Any:
    try:
        return resolve_url(endpoint) if isinstance(endpoint, str) else endpoint
    except UnknownHostError:
        return endpoint

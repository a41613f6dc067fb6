"""One person's whole story, across destinations: the events received, their deliveries and attempts with
Customer.io's answers, and the message activity Customer.io reported back, in time order, in words.

A person is found by a user id, an anonymous id, an email address or a Customer.io cio_id: every
identifier the stored events and activity tie to it is followed once (an anonymous id to the user id
it was identified as, a user id to its anonymous ids and emails). Every read is an indexed equality
and is capped, so the page costs the same with a million deliveries and a million activity rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.urls import reverse

from cio_project.log_redaction import redact
from cio_project.times import exact_time
from delivery.models import Delivery, DeliveryAttempt, Event, MessageActivity, normal_email
from destinations.models import Destination

# Each kind of row is read newest first up to this many; the page says when a kind was cut.
LIMIT = 500
# Identifiers followed from the search term (a shared email could tie many people together).
FANOUT = 50
CHANNELS = {
    "email": "Email",
    "push": "Push notification",
    "sms": "SMS",
    "in_app": "In-app message",
    "slack": "Slack message",
    "webhook": "Webhook",
    "customer": "Subscription",
}
# Customer.io's timestamps are whole seconds: a message sent and bounced in the same second is told in
# the order its life goes, then in the order the posts arrived.
LIFE_ORDER = {
    metric: index
    for index, metric in enumerate(
        ("drafted", "attempted", "sent", "delivered", "deferred", "opened", "clicked", "converted")
    )
}
MESSAGE_IDS = ("campaign_id", "action_id", "broadcast_id", "newsletter_id", "transactional_message_id")


@dataclass(frozen=True)
class Person:
    term: str
    ids: tuple[str, ...]  # user ids and anonymous ids (Customer.io's customer_id is the user id)
    emails: tuple[str, ...]
    cio_ids: tuple[str, ...]


@dataclass(frozen=True)
class Step:
    time: datetime
    words: str


@dataclass(frozen=True)
class Entry:
    kind: str  # event, delivery or message
    time: datetime
    destination: str
    summary: str
    url: str
    steps: list[Step] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    # Among entries of the same second: an event, then its deliveries in id order, then activity.
    tie_break: tuple[int, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "time": self.time.isoformat(),
            "destination": self.destination,
            "summary": self.summary,
            "url": self.url,
            "steps": [{"time": step.time.isoformat(), "words": step.words} for step in self.steps],
            **self.fields,
        }


@dataclass(frozen=True)
class Timeline:
    person: Person
    entries: list[Entry]
    # Kinds of rows that had more than LIMIT: the oldest of those are not shown.
    cut: list[str]


def find_person(term: str) -> Person:
    """The identifiers that belong with `term`, read from stored activity and events."""
    term = term.strip()
    # Emails are stored lowercased (normal_email), so one typed in any case is still an equality.
    email = normal_email(term) if "@" in term else ""
    ids, emails, cio_ids = {term}, {email} - {""}, {term}
    reported = MessageActivity.objects.filter(Q(customer_id=term) | Q(email=email or term) | Q(cio_id=term))
    for customer_id, email, cio_id in reported.values_list("customer_id", "email", "cio_id").distinct()[
        :FANOUT
    ]:
        ids.add(customer_id)
        emails.add(email)
        cio_ids.add(cio_id)
    ids.discard("")
    emails.discard("")
    matching = Event.objects.filter(Q(user_id__in=ids) | Q(anonymous_id__in=ids) | Q(email__in=emails))
    user_ids = set()
    for user_id, anonymous_id, email in matching.values_list("user_id", "anonymous_id", "email").distinct()[
        :FANOUT
    ]:
        user_ids.add(user_id)
        ids.update((user_id, anonymous_id))
        emails.add(email)
    user_ids.discard("")
    if user_ids:
        same_user = Event.objects.filter(user_id__in=user_ids).values_list("anonymous_id", "email").distinct()
        for anonymous_id, email in same_user[:FANOUT]:
            ids.add(anonymous_id)
            emails.add(email)
    return Person(term, *(tuple(sorted(values - {""})) for values in (ids, emails, cio_ids)))


def timeline(term: str) -> Timeline:
    person = find_person(term)
    names = dict(Destination.objects.values_list("id", "name"))
    events = list(
        Event.objects.filter(
            Q(user_id__in=person.ids) | Q(anonymous_id__in=person.ids) | Q(email__in=person.emails)
        )
        .select_related("source")
        .defer("payload", "source__write_key")
        .order_by("-received_at", "-id")[: LIMIT + 1]
    )
    deliveries = list(
        Delivery.objects.filter(event_id__in=[event.pk for event in events[:LIMIT]])
        .defer("requests")
        .order_by("id")
    )
    activity = list(
        MessageActivity.objects.filter(
            Q(customer_id__in=person.ids) | Q(email__in=person.emails) | Q(cio_id__in=person.cio_ids)
        )
        .defer("raw_body")
        .order_by("-occurred_at", "-id")[: LIMIT + 1]
    )
    cut = [kind for kind, rows in (("events", events), ("message activity", activity)) if len(rows) > LIMIT]
    entries = [
        *(event_entry(event, deliveries) for event in events[:LIMIT]),
        *delivery_entries(deliveries, names),
        *message_entries(activity[:LIMIT], names),
    ]
    entries.sort(key=lambda entry: (entry.time, *entry.tie_break))
    return Timeline(person, entries, cut)


def event_entry(event: Event, deliveries: list[Delivery]) -> Entry:
    name = f" “{event.event_name}”" if event.event_name else ""
    first = next((delivery for delivery in deliveries if delivery.event_id == event.pk), None)
    return Entry(
        kind="event",
        time=event.received_at,
        destination="",
        summary=f"Received {event.type}{name} from source {event.source.name}",
        url=reverse("admin:delivery_delivery_change", args=[first.pk]) if first else "",
        fields={
            "message_id": event.message_id,
            "type": event.type,
            "event_name": event.event_name,
            "user_id": event.user_id,
            "anonymous_id": event.anonymous_id,
            "email": event.email,
            "source": event.source.name,
        },
        tie_break=(0, event.pk, 0, 0),
    )


def delivery_entries(deliveries: list[Delivery], names: dict[int, str]) -> list[Entry]:
    attempts = defaultdict(list)
    rows = (
        DeliveryAttempt.objects.filter(delivery_id__in=[delivery.pk for delivery in deliveries])
        .select_related("sent_request")
        .only(
            "delivery_id",
            "outcome",
            "error",
            "sent_request__started_at",
            "sent_request__status_code",
            "sent_request__duration_ms",
            "sent_request__error",
        )
        .order_by("sent_request__started_at", "sent_request_id")
    )
    for attempt in rows:
        attempts[attempt.delivery_id].append(attempt)
    return [delivery_entry(delivery, attempts[delivery.pk], names) for delivery in deliveries]


def delivery_entry(delivery: Delivery, attempts: list[DeliveryAttempt], names: dict[int, str]) -> Entry:
    destination = names.get(delivery.destination_id, "")
    status = delivery.get_status_display()
    summary = f"{status} to {destination}"
    if delivery.reason:
        summary += f": {redact(delivery.reason)}"
    elif delivery.last_status_code:
        summary += f": Customer.io answered {delivery.last_status_code}"
    if delivery.attempt_count:
        summary += f" ({delivery.attempt_count} attempt{'s' if delivery.attempt_count != 1 else ''})"
    return Entry(
        kind="delivery",
        time=delivery.created_at,
        destination=destination,
        summary=summary,
        url=reverse("admin:delivery_delivery_change", args=[delivery.pk]),
        steps=[attempt_step(attempt) for attempt in attempts],
        fields={
            "delivery_id": delivery.pk,
            "status": delivery.status,
            "message_type": delivery.message_type,
            "event_name": delivery.event_name,
            "attempts": delivery.attempt_count,
            "last_status_code": delivery.last_status_code,
            "reason": redact(delivery.reason),
        },
        tie_break=(0, delivery.event_id, 1, delivery.pk),
    )


def attempt_step(attempt: DeliveryAttempt) -> Step:
    sent = attempt.sent_request
    if sent.status_code:
        answer = f"Customer.io answered {sent.status_code}"
    else:
        answer = redact(attempt.error or sent.error) or "no answer"
    took = f" in {sent.duration_ms} ms" if sent.duration_ms is not None else ""
    return Step(sent.started_at, f"sent {exact_time(sent.started_at)}: {answer}{took} ({attempt.outcome})")


def message_entries(activity: list[MessageActivity], names: dict[int, str]) -> list[Entry]:
    """Activity grouped by message: Customer.io's delivery id names one message to one person."""
    groups: dict[tuple, list[MessageActivity]] = defaultdict(list)
    for row in activity:
        groups[(row.destination_id, row.cio_delivery_id or row.event_id)].append(row)
    return [message_entry(sorted(rows, key=life_order), names) for rows in groups.values()]


def life_order(row: MessageActivity) -> tuple:
    return row.occurred_at, LIFE_ORDER.get(row.metric, len(LIFE_ORDER)), row.pk


def message_label(row: MessageActivity) -> str:
    channel = CHANNELS.get(row.object_type, row.object_type)
    if row.message_name:
        return f"{row.message_name} ({channel.lower()})"
    for kind, value in (
        ("campaign", row.campaign_id),
        ("broadcast", row.broadcast_id),
        ("newsletter", row.newsletter_id),
        ("transactional message", row.transactional_message_id),
    ):
        if value:
            return f"{channel} of {kind} {value}"
    return channel


def message_entry(rows: list[MessageActivity], names: dict[int, str]) -> Entry:
    first = rows[0]
    steps = []
    for row in rows:
        words = f"{row.metric.replace('_', ' ')} {exact_time(row.occurred_at)}"
        steps.append(Step(row.occurred_at, f"{words}: {row.reason}" if row.reason else words))
    return Entry(
        kind="message",
        time=first.occurred_at,
        destination=names.get(first.destination_id, ""),
        summary=f"{message_label(first)}: " + ", ".join(step.words for step in steps),
        url=reverse("admin:delivery_messageactivity_change", args=[rows[-1].pk]),
        steps=steps,
        fields={
            "channel": first.object_type,
            "message_name": first.message_name,
            "customer_id": first.customer_id,
            "cio_id": first.cio_id,
            "email": first.email,
            "recipient": first.recipient,
            "cio_delivery_id": first.cio_delivery_id,
            **{name: getattr(first, name) for name in MESSAGE_IDS},
            "activity": [
                {
                    "event_id": row.event_id,
                    "metric": row.metric,
                    "time": row.occurred_at.isoformat(),
                    "reason": row.reason,
                }
                for row in rows
            ],
        },
        tie_break=(1, first.pk, 0, 0),
    )

"""Storing accepted events and their deliveries, in one transaction per request (DESIGN.md invariant 1).

Events go in with INSERT ... ON CONFLICT DO NOTHING on (source, messageId), so a repeated messageId
is stored once even when two requests race, on PostgreSQL and SQLite alike; the stored row counts
the repeats. Each new event gets one delivery per connected, enabled destination: pending, or
filtered at once when its integrations object excludes the destination. The doorbell rings only
after the commit.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, models, transaction
from django.db.models import F

from delivery import doorbell
from delivery.api.sources import SourceRef
from delivery.api.validation import is_identifier
from delivery.models import Delivery, Event
from delivery.routing import integrations_exclusion

logger = logging.getLogger(__name__)

# Rows per INSERT stay under SQLite's 32,766 and PostgreSQL's 65,535 parameters per statement.
MAX_PARAMETERS = 30_000
# The copied, searchable columns are CharField(max_length=255); the payload keeps the full value.
TEXT_LENGTH = Event._meta.get_field("user_id").max_length

EVENT_COLUMNS = (
    "source_id", "message_id", "type", "user_id", "anonymous_id", "email", "event_name", "payload",
    "received_at",
)  # fmt: skip
DELIVERY_COLUMNS = (
    "event_id", "destination_id", "source_id", "message_type", "event_name", "person", "status",
    "next_attempt_at", "reason", "created_at", "finished_at",
)  # fmt: skip


@dataclass(frozen=True)
class StoreResult:
    stored: int
    duplicates: int


def store(source: SourceRef, messages: Sequence[dict], now: datetime) -> StoreResult:
    """Store filled-in messages (in the order received) and their deliveries, or nothing at all."""
    firsts, repeats = _first_occurrences(messages)
    with transaction.atomic(durable=True):
        event_ids = _insert_events(source, firsts, now)
        duplicates = Counter(repeats)
        duplicates.update(message["messageId"] for message in firsts if message["messageId"] not in event_ids)
        if duplicates:
            _count_duplicates(source.id, duplicates, now)
        stored = [
            (event_ids[message["messageId"]], message)
            for message in firsts
            if message["messageId"] in event_ids
        ]
        ringing = _insert_deliveries(source, stored, now)
        if ringing:
            transaction.on_commit(lambda: doorbell.ring(ringing))
    for message_id, count in duplicates.items():
        logger.info(
            "dropped %d duplicate(s) of messageId %s from source %s: already stored",
            count,
            message_id,
            source.name,
        )
    return StoreResult(stored=len(stored), duplicates=duplicates.total())


def _first_occurrences(messages: Sequence[dict]) -> tuple[list[dict], list[str]]:
    seen: set[str] = set()
    firsts, repeats = [], []
    for message in messages:
        message_id = message["messageId"]
        if message_id in seen:
            repeats.append(message_id)
        else:
            seen.add(message_id)
            firsts.append(message)
    return firsts, repeats


def _text(value: Any) -> str:
    return value[:TEXT_LENGTH] if isinstance(value, str) else ""


def event_name(message: dict) -> str:
    """The track event, else the page/screen name: what a person searches the log for."""
    name = message.get("event") if message["type"] == "track" else message.get("name")
    return _text(name)


def email(message: dict) -> str:
    context_traits = (message.get("context") or {}).get("traits")
    for holder in (message.get("traits"), context_traits, message.get("properties")):
        if isinstance(holder, dict) and isinstance(holder.get("email"), str):
            return _text(holder["email"])
    return ""


def person(message: dict) -> str:
    """userId, else anonymousId: whose deliveries keep their order (DESIGN.md invariant 4)."""
    user_id = message.get("userId")
    return _text(user_id if is_identifier(user_id) else message.get("anonymousId"))


def _event_row(source_id: int, message: dict, received_at: Any) -> tuple:
    """The values of EVENT_COLUMNS for one message."""
    payload = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    user_id, anonymous_id = _text(message.get("userId")), _text(message.get("anonymousId"))
    return (source_id, message["messageId"], message["type"], user_id, anonymous_id, email(message),
            event_name(message), payload, received_at)  # fmt: skip


def _insert_events(source: SourceRef, messages: list[dict], now: datetime) -> dict[str, int]:
    received_at = connection.ops.adapt_datetimefield_value(now)
    rows = [_event_row(source.id, message, received_at) for message in messages]
    quote = connection.ops.quote_name
    conflict = (
        f" ON CONFLICT ({quote('source_id')}, {quote('message_id')}) DO NOTHING"
        f" RETURNING {quote('id')}, {quote('message_id')}"
    )
    returned = insert_rows(Event, EVENT_COLUMNS, rows, suffix=conflict)
    return {message_id: event_id for event_id, message_id in returned}


def _count_duplicates(source_id: int, duplicates: Counter, now: datetime) -> None:
    by_count: dict[int, list[str]] = {}
    for message_id, count in duplicates.items():
        by_count.setdefault(count, []).append(message_id)
    for count, message_ids in by_count.items():
        Event.objects.filter(source_id=source_id, message_id__in=message_ids).update(
            duplicates_dropped=F("duplicates_dropped") + count, last_duplicate_at=now
        )


def _insert_deliveries(source: SourceRef, stored: list[tuple[int, dict]], now: datetime) -> list[int]:
    """One delivery per (event, destination) in the order received; the destinations to ring."""
    moment = connection.ops.adapt_datetimefield_value(now)
    rows, ringing = [], set()
    for event_id, message in stored:
        common = (message["type"], event_name(message), person(message))
        for destination in source.destinations:
            reason = integrations_exclusion(message, destination.name)
            if reason is None:
                ringing.add(destination.id)
                state = (Delivery.Status.PENDING.value, moment, "", moment, None)
            else:
                state = (Delivery.Status.FILTERED.value, moment, reason, moment, moment)
            rows.append((event_id, destination.id, source.id, *common, *state))
    insert_rows(Delivery, DELIVERY_COLUMNS, rows)
    return sorted(ringing)


def insert_rows(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[tuple], *, suffix: str = ""
) -> list[tuple]:
    """A multi-row INSERT of `columns`; every other column gets its field's default."""
    if not rows:
        return []
    names, defaults = _defaults(model, columns)
    placeholders = ", ".join(_placeholder(model, name) for name in (*columns, *names))
    quote = connection.ops.quote_name
    column_list = ", ".join(quote(name) for name in (*columns, *names))
    head = f"INSERT INTO {quote(model._meta.db_table)} ({column_list}) VALUES "
    per_statement = max(1, MAX_PARAMETERS // (len(columns) + len(names)))
    returned: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            params = [value for row in chunk for value in (*row, *defaults)]
            cursor.execute(head + ", ".join([f"({placeholders})"] * len(chunk)) + suffix, params)
            if suffix:
                returned.extend(cursor.fetchall())
    return returned


def _defaults(model: type[models.Model], given: Sequence[str]) -> tuple[list[str], list[Any]]:
    """Columns not given and their defaults, so a field added to the model later needs no change here."""
    names, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.column in given:
            continue
        default = field.get_default()
        names.append(field.column)
        values.append(None if default is None else field.get_db_prep_save(default, connection))
    return names, values


def _placeholder(model: type[models.Model], column: str) -> str:
    field = next(f for f in model._meta.concrete_fields if f.column == column)
    if isinstance(field, models.JSONField) and connection.vendor == "postgresql":
        return "%s::jsonb"
    return "%s"

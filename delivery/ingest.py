"""Storing accepted events and their deliveries, atomically, before the API answers (DESIGN.md invariant 1).

Events go in with INSERT ... ON CONFLICT DO NOTHING on (source, messageId), so a repeated messageId
is stored once even when two requests race, on PostgreSQL and SQLite alike; the stored row counts
the repeats. Each new event gets one delivery per connected, enabled destination: pending, or
filtered at once when its integrations object excludes the destination. The doorbell rings only
after the commit.

On PostgreSQL the events and their deliveries are written by one statement (a data-modifying WITH),
which is one transaction and one round trip; SQLite, which has no INSERT inside WITH, writes them
with two statements in one transaction. Rows travel as one JSON parameter either way.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.db.models import F

from delivery import doorbell
from delivery.api.sources import SourceRef, forget_all
from delivery.api.validation import is_identifier
from delivery.models import Delivery, Event
from delivery.routing import integrations_exclusion

logger = logging.getLogger(__name__)

# The copied, searchable columns are CharField(max_length=255); the payload keeps the full value.
TEXT_LENGTH = Event._meta.get_field("user_id").max_length

EVENT_COLUMNS = (
    "source_id", "message_id", "type", "user_id", "anonymous_id", "email", "event_name", "payload",
    "received_at", "duplicates_dropped", "last_duplicate_at",
)  # fmt: skip
DELIVERY_COLUMNS = (
    "event_id", "destination_id", "source_id", "message_type", "event_name", "person", "status",
    "next_attempt_at", "reason", "created_at", "finished_at",
)  # fmt: skip
PENDING = Delivery.Status.PENDING.value
FILTERED = Delivery.Status.FILTERED.value


@dataclass(frozen=True)
class StoreResult:
    stored: int
    duplicates: int


def store(source: SourceRef, messages: Sequence[dict], now: datetime) -> StoreResult:
    """Store filled-in messages (in the order received) and their deliveries, or nothing at all."""
    firsts, repeats = _first_occurrences(messages)
    stamp = _timestamp(now)
    events = [_event_row(source.id, message, stamp, repeats[message["messageId"]]) for message in firsts]
    deliveries = _delivery_rows(source, firsts, stamp)
    try:
        inserted = _write(events, deliveries)
    except IntegrityError:
        # A destination deleted while still cached fails the foreign key at commit: nothing was stored;
        # forget the cache so the client's retry routes with what exists now.
        forget_all()
        raise
    pending = {
        row["destination_id"]
        for row in deliveries
        if row["status"] == PENDING and row["message_id"] in inserted
    }
    if pending:
        transaction.on_commit(lambda: doorbell.ring(sorted(pending)))
    duplicates = _note_duplicates(source, events, repeats, inserted, now)
    return StoreResult(stored=len(inserted), duplicates=duplicates)


def _note_duplicates(
    source: SourceRef, events: list[dict], repeats: Counter, inserted: dict, now: datetime
) -> int:
    """Count repeats of events an earlier request stored on the stored row, and log every dropped one."""
    earlier = Counter(
        {
            row["message_id"]: 1 + row["duplicates_dropped"]
            for row in events
            if row["message_id"] not in inserted
        }
    )
    if earlier:
        _count_duplicates(source.id, earlier, now)
    duplicates = earlier + Counter({key: count for key, count in repeats.items() if key in inserted})
    for message_id, count in duplicates.items():
        logger.info(
            "dropped %d duplicate(s) of messageId %s from source %s: already stored",
            count,
            message_id,
            source.name,
        )
    return duplicates.total()


def _first_occurrences(messages: Sequence[dict]) -> tuple[list[dict], Counter]:
    """The messages with a messageId not seen before in the request, and how often each repeated."""
    firsts: dict[str, dict] = {}
    repeats: Counter = Counter()
    for message in messages:
        message_id = message["messageId"]
        if message_id in firsts:
            repeats[message_id] += 1
        else:
            firsts[message_id] = message
    return list(firsts.values()), repeats


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


def _event_row(source_id: int, message: dict, received_at: str, repeats: int) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "message_id": message["messageId"],
        "type": message["type"],
        "user_id": _text(message.get("userId")),
        "anonymous_id": _text(message.get("anonymousId")),
        "email": email(message),
        "event_name": event_name(message),
        "payload": message,
        "received_at": received_at,
        "duplicates_dropped": repeats,
        "last_duplicate_at": received_at if repeats else None,
    }


def _delivery_rows(source: SourceRef, messages: list[dict], stamp: str) -> list[dict[str, Any]]:
    """One row per (message, destination), in the order received; joined to its event by message_id."""
    rows = []
    for message in messages:
        common = {"message_id": message["messageId"], "source_id": source.id, "message_type": message["type"]}
        common.update(event_name=event_name(message), person=person(message), created_at=stamp)
        for destination in source.destinations:
            reason = integrations_exclusion(message, destination.name)
            row = {
                **common,
                "destination_id": destination.id,
                "next_attempt_at": stamp,
                "reason": reason or "",
            }
            row["status"], row["finished_at"] = (FILTERED, stamp) if reason else (PENDING, None)
            rows.append(row)
    return rows


def _write(events: list[dict], deliveries: list[dict]) -> dict[str, int]:
    """Insert the events not stored yet and their deliveries; {messageId: event id} of those inserted."""
    if connection.vendor == "postgresql":
        sql, event_defaults, delivery_defaults = _events_and_deliveries_sql()
        params = [*_defaults(event_defaults), _json(events), *_defaults(delivery_defaults), _json(deliveries)]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return {message_id: event_id for event_id, message_id in cursor.fetchall()}
    with transaction.atomic(durable=True):
        sql, defaults = _insert_sql(Event, EVENT_COLUMNS, _event_conflict(), connection.vendor)
        with connection.cursor() as cursor:
            cursor.execute(sql, [*_defaults(defaults), _json(events)])
            inserted = {message_id: event_id for event_id, message_id in cursor.fetchall()}
        rows = [
            {**row, "event_id": inserted[row["message_id"]]}
            for row in deliveries
            if row["message_id"] in inserted
        ]
        if rows:
            sql, defaults = _insert_sql(Delivery, DELIVERY_COLUMNS, "", connection.vendor)
            with connection.cursor() as cursor:
                cursor.execute(sql, [*_defaults(defaults), _json(rows)])
    return inserted


def _count_duplicates(source_id: int, duplicates: Counter, now: datetime) -> None:
    by_count: dict[int, list[str]] = {}
    for message_id, count in duplicates.items():
        by_count.setdefault(count, []).append(message_id)
    for count, message_ids in by_count.items():
        Event.objects.filter(source_id=source_id, message_id__in=message_ids).update(
            duplicates_dropped=F("duplicates_dropped") + count, last_duplicate_at=now
        )


def _timestamp(now: datetime) -> str:
    """A datetime as the database takes it inside JSON (SQLite keeps Django's own text form)."""
    return str(connection.ops.adapt_datetimefield_value(now))


# --- SQL: rows travel as one JSON parameter ------------------------------------------------------
# The database expands it (json_to_recordset on PostgreSQL, json_each on SQLite). The SQL text is
# constant, so drivers cache it, and a 2,500-event batch binds one parameter instead of tens of
# thousands of placeholders.

ROW_NUMBER = "row_number"


def _json(rows: list[dict]) -> str:
    numbered = [{ROW_NUMBER: number, **row} for number, row in enumerate(rows)]
    return json.dumps(numbered, ensure_ascii=False, separators=(",", ":"))


def _defaults(fields: list[models.Field]) -> list[Any]:
    """Parameters for the columns not given: each field's default, so added fields need no change here."""
    values = []
    for field in fields:
        default = field.get_default()
        values.append(None if default is None else field.get_db_prep_save(default, connection))
    return values


def _event_conflict() -> str:
    quote = connection.ops.quote_name
    return (
        f" ON CONFLICT ({quote('source_id')}, {quote('message_id')}) DO NOTHING"
        f" RETURNING {quote('id')}, {quote('message_id')}"
    )


@cache
def _events_and_deliveries_sql() -> tuple[str, list, list]:
    """PostgreSQL: insert events, and deliveries for those inserted, in one statement."""
    events, event_defaults = _insert_sql(Event, EVENT_COLUMNS, _event_conflict(), "postgresql")
    deliveries, delivery_defaults = _insert_sql(
        Delivery, DELIVERY_COLUMNS, "", "postgresql", join_events=True
    )
    quote = connection.ops.quote_name
    sql = f"WITH ev AS ({events}), dl AS ({deliveries}) SELECT {quote('id')}, {quote('message_id')} FROM ev"
    return sql, event_defaults, delivery_defaults


def _json_rows(
    columns: tuple[str, ...], fields: dict, vendor: str, join_events: bool
) -> tuple[str, str, str]:
    """The SELECT list, FROM clause and ORDER BY that read the JSON parameter back as rows.

    With join_events, event_id comes from the events inserted by the same statement (CTE `ev`).
    """
    quote = connection.ops.quote_name
    if vendor == "postgresql":
        keys = [column for column in columns if not (join_events and column == "event_id")]
        values = ", ".join(
            "ev.id" if join_events and column == "event_id" else f"r.{quote(column)}" for column in columns
        )
        types = [f"{quote(column)} {fields[column].db_type(connection)}" for column in keys]
        if join_events:
            types.append(f"{quote('message_id')} text")
        source = f"json_to_recordset(%s::json) AS r({quote(ROW_NUMBER)} integer, {', '.join(types)})"
        if join_events:
            source += f" JOIN ev ON ev.{quote('message_id')} = r.{quote('message_id')}"
        return values, source, f"r.{quote(ROW_NUMBER)}"
    values = ", ".join(f"json_extract(r.value, '$.{column}')" for column in columns)
    return values, "json_each(%s) AS r", "r.key"


@cache
def _insert_sql(
    model: type[models.Model], columns: tuple[str, ...], suffix: str, vendor: str, join_events: bool = False
) -> tuple[str, list]:
    """INSERT ... SELECT from the JSON rows, and the fields whose defaults it takes as parameters."""
    quote = connection.ops.quote_name
    fields = {field.column: field for field in model._meta.concrete_fields if not field.primary_key}
    defaulted = [field for column, field in fields.items() if column not in columns]
    # PostgreSQL reads an untyped parameter in a SELECT list as text: give each default its type.
    casts = [f"::{field.db_type(connection)}" if vendor == "postgresql" else "" for field in defaulted]
    values, source, order = _json_rows(columns, fields, vendor, join_events)
    names = ", ".join(quote(name) for name in (*columns, *(field.column for field in defaulted)))
    select = ", ".join([values, *(f"%s{cast}" for cast in casts)])
    # WHERE true: SQLite needs it to read ON CONFLICT after INSERT ... SELECT.
    table = quote(model._meta.db_table)
    sql = f"INSERT INTO {table} ({names}) SELECT {select} FROM {source} WHERE true ORDER BY {order}{suffix}"
    return sql, defaulted

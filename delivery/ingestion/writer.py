"""Writing an accepted request's rows, atomically, on PostgreSQL and SQLite (DESIGN.md invariant 1).

Events go in with INSERT ... ON CONFLICT DO NOTHING on (source, messageId), so a repeated messageId
is stored once even when two requests race, on both databases alike. On PostgreSQL the events and
their deliveries are written by one statement (a data-modifying WITH), which is one transaction and
one round trip; SQLite, which has no INSERT inside WITH, writes them with two statements in one
transaction. Rows travel as one JSON parameter either way.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import datetime
from functools import cache
from typing import Any

from django.db import DatabaseError, connection, models, transaction
from django.db.models import F

from delivery.models import Delivery, Event

logger = logging.getLogger(__name__)

EVENT_COLUMNS = (
    "source_id", "message_id", "type", "user_id", "anonymous_id", "email", "event_name", "payload",
    "received_at", "duplicates_dropped", "last_duplicate_at",
)  # fmt: skip
DELIVERY_COLUMNS = (
    "event_id", "destination_id", "source_id", "message_type", "event_name", "person", "status",
    "next_attempt_at", "reason", "created_at", "finished_at",
)  # fmt: skip


def write(events: list[dict], deliveries: list[dict]) -> dict[str, int]:
    """Insert the events not stored yet and their deliveries; {messageId: event id} of those inserted."""
    if connection.vendor == "postgresql":
        sql, event_defaults, delivery_defaults = _events_and_deliveries_sql()
        params = [*_defaults(event_defaults), _json(events), *_defaults(delivery_defaults), _json(deliveries)]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return {message_id: event_id for event_id, message_id in cursor.fetchall()}
    # Not durable: a warehouse sync commits its chunk's fingerprints in the same transaction.
    with transaction.atomic():
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


def count_duplicates(source_id: int, duplicates: Counter, now: datetime) -> None:
    """Add repeats to the stored rows' counters. The events are committed already, so a failure here
    is logged and the request still answers 200: what it sent is stored."""
    by_count: dict[int, list[str]] = {}
    for message_id, count in duplicates.items():
        by_count.setdefault(count, []).append(message_id)
    try:
        for count, message_ids in by_count.items():
            Event.objects.filter(source_id=source_id, message_id__in=message_ids).update(
                duplicates_dropped=F("duplicates_dropped") + count, last_duplicate_at=now
            )
    except DatabaseError as error:
        logger.warning("could not count %d dropped duplicate(s): %s", duplicates.total(), error)


def db_timestamp(now: datetime) -> str:
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
    return [_default(field) if callable(field.default) else _constant_default(field) for field in fields]


def _default(field: models.Field) -> Any:
    default = field.get_default()
    return None if default is None else field.get_db_prep_save(default, connection)


@cache
def _constant_default(field: models.Field) -> Any:
    return _default(field)


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

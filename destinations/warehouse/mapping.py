"""What a row becomes: a record message (RudderStack's reverse-ETL shape) and the fingerprint of it.

    {"type": "record", "action": "insert" | "update" | "delete", "object": "person" | "event" | "object",
     "identifiers": {...}, "fields": {...}, "messageId": ..., "context": {"sources": {...}},
     "channel": "sources"}

A fingerprint covers what Customer.io would receive for the row, so a column that changes in a way the
mapping does not send (none today) would not count as a change, and a changed value always does.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

INSERT, UPDATE, DELETE = "insert", "update", "delete"
PERSON, EVENT, OBJECT = "person", "event", "object"
FINGERPRINT_BYTES = 16
MAX_KEY_LENGTH = 255


class MappingConfig(Protocol):
    """What the mapping reads of a warehouse source (destinations.warehouse.models.WarehouseSource)."""

    pk: int
    name: str
    kind: str
    identifier: str
    identifier_column: str
    event_name_column: str
    event_name: str
    timestamp_column: str
    object_type_id: str
    relationships_column: str


class RowError(Exception):
    """A row that cannot become a record; it fails alone, with this reason."""


@dataclass(frozen=True)
class MappedRow:
    key: str  # the fingerprint's key: the identifier, the object id, or (an event) the content's digest
    message: dict[str, Any]  # the record without action, messageId and context
    fingerprint: str


def json_value(value: Any) -> Any:
    """A database value as JSON: dates as ISO-8601, decimals as numbers, UUIDs as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_value(item) for item in value]
    if isinstance(value, bytes | bytearray | memoryview):
        raise RowError("holds binary data, which Customer.io cannot take")
    return str(value)


def digest(content: Any) -> str:
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=FINGERPRINT_BYTES).hexdigest()


def map_row(config: MappingConfig, row: dict[str, Any]) -> MappedRow:
    """The record a row becomes (raises RowError naming the column at fault)."""
    values = {}
    for column, value in row.items():
        try:
            values[column] = json_value(value)
        except RowError as error:
            raise RowError(f"column {column!r} {error}") from None
    identifier = _identifier(values, config.identifier_column)
    fields = {column: value for column, value in values.items() if column != config.identifier_column}
    if config.kind == EVENT:
        message = _event(config, identifier, fields)
        return MappedRow(digest(message), message, digest(message))
    if config.kind == OBJECT:
        message = _object(config, identifier, fields)
    else:
        message = {"object": PERSON, "identifiers": {config.identifier: identifier}, "fields": fields}
    return MappedRow(identifier, message, digest(message))


def identity(config: MappingConfig, row: dict[str, Any]) -> str | None:
    """The key of a row that does not map, when its identifier reads (an event has none of its own)."""
    if config.kind == EVENT:
        return None
    try:
        return _identifier({"key": json_value(row.get(config.identifier_column))}, "key")
    except RowError:
        return None


def _identifier(values: dict[str, Any], column: str) -> str:
    value = values.get(column)
    text = value.strip() if isinstance(value, str) else "" if value is None else json.dumps(value)
    if not text or isinstance(value, bool | dict | list):
        raise RowError(f"column {column!r} (the identifier) is empty")
    if len(text) > MAX_KEY_LENGTH:
        raise RowError(f"column {column!r} (the identifier) is longer than {MAX_KEY_LENGTH} characters")
    return text


def _event(config: MappingConfig, identifier: str, fields: dict[str, Any]) -> dict[str, Any]:
    name = config.event_name
    if config.event_name_column:
        name = fields.pop(config.event_name_column, None)
        if not isinstance(name, str) or not name.strip():
            raise RowError(f"column {config.event_name_column!r} (the event name) is empty")
    if config.timestamp_column:
        timestamp = fields.pop(config.timestamp_column, None)
        if timestamp is not None:
            fields["created_at"] = timestamp
    return {
        "object": EVENT,
        "identifiers": {config.identifier: identifier},
        "event": name,
        "fields": fields,
    }


def _object(config: MappingConfig, object_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {
        "object": OBJECT,
        "identifiers": {"object_type_id": config.object_type_id, "object_id": object_id},
    }
    if config.relationships_column:
        people = related_people(fields.pop(config.relationships_column, None), config.relationships_column)
        message["relationships"] = [{config.identifier: person} for person in people]
    message["fields"] = fields
    return message


def related_people(value: Any, column: str) -> list[str]:
    """One person, a comma-separated list, or a JSON list (text or a database array) of them."""
    if value is None:
        return []
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            value = json.loads(value)
        except ValueError:
            raise RowError(f"column {column!r} (the related people) is not a valid JSON list") from None
    items = value if isinstance(value, list) else str(value).split(",")
    people = [item.strip() if isinstance(item, str) else json.dumps(item) for item in items]
    if any(isinstance(item, dict | list | bool) for item in items):
        raise RowError(f"column {column!r} (the related people) holds something that is not an id")
    return [person for person in people if person]


def record(
    config: MappingConfig, message: dict[str, Any], action: str, message_id: str, run_id: int
) -> dict[str, Any]:
    return {
        "type": "record",
        "action": action,
        **message,
        "messageId": message_id,
        "context": {
            "sources": {
                "job_id": str(config.pk),
                "job_run_id": str(run_id),
                "task_run_id": str(run_id),
                "name": config.name,
            }
        },
        "channel": "sources",
    }


def removal(config: MappingConfig, key: str) -> dict[str, Any]:
    """The record (without action, messageId and context) that deletes what a removed row was."""
    if config.kind == OBJECT:
        identifiers = {"object_type_id": config.object_type_id, "object_id": key}
        return {"object": OBJECT, "identifiers": identifiers}
    return {"object": PERSON, "identifiers": {config.identifier: key}}


def message_id(config: MappingConfig, key: str, version: int, fingerprint: str) -> str:
    """Stable per (source, row, change): storing the same change again is a duplicate the store drops."""
    return f"warehouse-{config.pk}-" + digest([key, version, fingerprint])

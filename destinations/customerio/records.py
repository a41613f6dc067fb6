"""RudderStack's `record` messages (reverse ETL, "VDM v2"): one row of a table, as a person, an event or
an object.

A record says what happened to its row (`action`: insert, update or delete), who or what it is about
(`identifiers`) and the row's other columns (`fields`). What the row is, the destination "object", is a
setting of the connection between the source and the destination (RudderStack passes it as
`connection.config.destination.object`); a record may also name it itself (`object`).

- person: insert and update are an identify of the person (the columns as attributes), delete deletes
  the person.
- event: insert and update are an event of the person, named by its `name` column (or, ours, by the
  record's own `event` / `eventName` / `name`, which is how warehouse sources name events); a row
  deleted from an event table does not un-happen the event, so delete is refused, with the reference's
  wording.
- for people and events alike, a `created_at` column is not an attribute: it is the item's
  `timestamp`, when the change or the event happened, as the reference sends it.
- object (ours: RudderStack's Customer.io destination has no object records): identify or delete of
  the object `identifiers.object_type_id` / `identifiers.object_id`, related to the people listed in
  `relationships`.

The person is the first non-empty identifier of cio_id, id and email; the other identifiers are sent as
attributes, as the reference sends them.
"""

from __future__ import annotations

from typing import Any

from destinations.customerio.checks import check_attribute_count, check_attributes, check_id
from destinations.customerio.config import RECORD_OBJECTS, TransformConfig
from destinations.customerio.dates import read_millis
from destinations.customerio.dedup import event_id
from destinations.customerio.errors import InstrumentationError
from destinations.customerio.message import (
    Path,
    dig,
    is_identifier,
    paths,
    present,
    record_person,
    scalar,
    text,
)

ACTIONS = {"insert": "identify", "update": "identify", "delete": "delete"}
# What the record itself may name its event by (ours); the reference reads only the `name` column.
_EVENT_NAME_KEYS = ("event", "eventName", "name")
_EVENT_NAME_COLUMN = "name"
_CREATED_AT = "created_at"
# Where the date the transformer may have to leave out sits in a person or event record.
CREATED_AT: tuple[Path, ...] = paths(f"identifiers.{_CREATED_AT}", f"fields.{_CREATED_AT}")

Message = dict[str, Any]
Item = dict[str, Any]


def record_object(message: Message, config: TransformConfig) -> str:
    """person, event or object: the record's own `object`, else its connection's, else the destination's."""
    for value in (
        message.get("object"),
        dig(message, ("connection", "config", "destination", "object")),
        config.record_object,
    ):
        if present(value):
            if value not in RECORD_OBJECTS:
                raise InstrumentationError(
                    f"object {str(value)[:40]!a} is not one of " + ", ".join(RECORD_OBJECTS)
                )
            return value
    return "person"


def record_item(message: Message, config: TransformConfig) -> Item:
    """The /api/v2/batch item for one record."""
    action = message.get("action")
    if not isinstance(action, str) or action not in ACTIONS:
        raise InstrumentationError(f"action {str(action)[:40]!a} is not supported: insert, update or delete")
    kind = record_object(message, config)
    columns = _columns(message)
    if kind == "object":
        return _object_item(message, config, ACTIONS[action], columns)
    if kind == "event" and action == "delete":
        raise InstrumentationError('"delete" is not supported for object type "event"')
    key, value = person_identifier(message)
    if config.check_limits:
        check_id(f"identifiers.{key}", value)
    attributes = {name: item for name, item in columns.items() if name not in (key, _CREATED_AT)}
    item: Item = {"type": "person", "identifiers": {key: value}}
    if kind == "event":
        item["action"] = "event"
        item["name"] = _event_name(message, attributes)
    else:
        item["action"] = ACTIONS[action]
    # transform() has already left out a created_at that is not a date, with a note.
    millis = read_millis(columns.get(_CREATED_AT))
    if millis is not None:
        item["timestamp"] = millis // 1000
    dedup = event_id(message, millis) if kind == "event" and config.deduplication_ids else None
    if dedup is not None:
        item["id"] = dedup
    if action != "delete" and attributes:
        if config.check_limits:
            check_attributes("fields", attributes)
            check_attribute_count("fields", attributes)
        item["attributes"] = attributes
    return item


def person_identifier(message: Message) -> tuple[str, str | int]:
    """The record's person as (Customer.io identifier, value): cio_id, else id, else email."""
    person = record_person(message.get("identifiers"))
    if person is None:
        raise InstrumentationError("identifiers: a record needs a non-empty cio_id, id or email")
    return person


def _columns(message: Message) -> dict[str, Any]:
    """The row's columns: `fields`, then the identifiers (which is where the reference reads them)."""
    columns: dict[str, Any] = {}
    for name in ("fields", "identifiers"):
        value = message.get(name)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise InstrumentationError(f"{name} must be a JSON object")
        columns.update(value)
    return columns


def logged_event_name(message: Message) -> Any:
    """What the delivery log shows and searches as a record's event name, before any destination reads
    it: the record's own name, else, when the record or its connection says it is an event, its `name`
    column. (A person's `name` column is their name, not an event's.)"""
    own = _own_event_name(message)
    stated = message.get("object") or dig(message, ("connection", "config", "destination", "object"))
    if own is not None or stated != "event":
        return own
    for holder in ("identifiers", "fields"):  # the identifiers win, as in _columns
        columns = message.get(holder)
        if isinstance(columns, dict) and present(columns.get(_EVENT_NAME_COLUMN)):
            return columns[_EVENT_NAME_COLUMN]
    return None


def _own_event_name(message: Message) -> Any:
    return next((message[key] for key in _EVENT_NAME_KEYS if present(message.get(key))), None)


def _event_name(message: Message, attributes: dict[str, Any]) -> str:
    """The record's own event name, else its `name` column, which is then not an attribute."""
    name = _own_event_name(message)
    if name is None:
        name = attributes.pop(_EVENT_NAME_COLUMN, None)
    if not isinstance(name, str) or not name.strip():
        raise InstrumentationError(
            "Event name is required for an event record: a non-empty identifiers.name "
            "(or the record's own event)"
        )
    return name


def _object_item(message: Message, config: TransformConfig, action: str, columns: dict[str, Any]) -> Item:
    identifiers = message.get("identifiers")
    if not isinstance(identifiers, dict):
        raise InstrumentationError("identifiers: an object record needs object_type_id and object_id")
    found = {}
    for key in ("object_type_id", "object_id"):
        value = identifiers.get(key)
        if not is_identifier(value):
            raise InstrumentationError(f"identifiers.{key} is required for an object record")
        found[key] = text(scalar(f"identifiers.{key}", value))
        if config.check_limits:
            check_id(f"identifiers.{key}", found[key])
    item: Item = {"type": "object", "action": action, "identifiers": found}
    attributes = {name: value for name, value in columns.items() if name not in found}
    if action != "delete":
        if config.check_limits:
            check_attributes("fields", attributes)
            check_attribute_count("fields", attributes)
        item["attributes"] = attributes
    item["cio_relationships"] = _relationships(message.get("relationships"), config)
    return item


def _relationships(value: Any, config: TransformConfig) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InstrumentationError("relationships must be a list of people's identifiers")
    related = []
    for index, person in enumerate(value):
        field = f"relationships.{index}"
        if not isinstance(person, dict):
            raise InstrumentationError(f"{field} must be a JSON object such as {{'id': ...}}")
        found = record_person(person)
        if found is None:
            raise InstrumentationError(f"{field} needs a non-empty cio_id, id or email")
        if config.check_limits:
            check_id(f"{field}.{found[0]}", found[1])
        related.append({"identifiers": {found[0]: found[1]}})
    return related

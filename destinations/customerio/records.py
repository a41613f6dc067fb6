"""RudderStack's `record` messages (reverse ETL, "VDM v2"): one row of a table, as a person, an event or
an object.

A record says what happened to its row (`action`: insert, update or delete), who or what it is about
(`identifiers`) and the row's other columns (`fields`). What the row is, the destination "object", is a
setting of the connection between the source and the destination (RudderStack passes it as
`connection.config.destination.object`); a record may also name it itself (`object`).

- person: insert and update are an identify of the person (the columns as attributes), delete deletes
  the person.
- event: insert and update are an event of the person, named by the record's `event` / `eventName` /
  `name` (at the top level or among the columns), at `created_at`; a row deleted from an event table
  does not un-happen the event, so delete is refused, with the reference's wording.
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
_EVENT_NAME_KEYS = ("event", "eventName", "name")
_EVENT_TIME_KEY = "created_at"
# Where a date the transformer may have to leave out sits in an event record.
EVENT_TIME: tuple[Path, ...] = paths(f"identifiers.{_EVENT_TIME_KEY}", f"fields.{_EVENT_TIME_KEY}")

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
    attributes = {name: item for name, item in columns.items() if name != key}
    item: Item = {"type": "person", "identifiers": {key: value}}
    if kind == "event":
        item["action"] = "event"
        item["name"] = _event_name(message, attributes)
        millis = read_millis(attributes.pop(_EVENT_TIME_KEY, None))
        if millis is not None:
            item["timestamp"] = millis // 1000
        dedup = event_id(message, millis) if config.deduplication_ids else None
        if dedup is not None:
            item["id"] = dedup
    else:
        item["action"] = ACTIONS[action]
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


def _event_name(message: Message, attributes: dict[str, Any]) -> str:
    for key in _EVENT_NAME_KEYS:
        if present(message.get(key)):
            name = message[key]
            break
    else:
        key = next((key for key in _EVENT_NAME_KEYS if present(attributes.get(key))), None)
        name = None if key is None else attributes.pop(key)
    if not isinstance(name, str) or not name.strip():
        raise InstrumentationError("an event record needs its name: event, eventName or name")
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

"""Reading fields of a Segment/RudderStack message the way RudderStack's generic field mapping does.

A field is looked up along a list of paths, first one present wins, where "present" is RudderStack's
rule: anything but a missing value, null or "" (so 0 and false count).
"""

from __future__ import annotations

import math
from typing import Any

from destinations.customerio.dates import read_millis
from destinations.customerio.errors import InstrumentationError

Path = tuple[str, tuple[str | int, ...]]

# Far beyond any real id, and far below the size Python refuses to turn into text.
_MAX_ID_BITS = 512


def paths(*dotted: str) -> tuple[Path, ...]:
    return tuple((name, tuple(int(k) if k.isdigit() else k for k in name.split("."))) for name in dotted)


USER_ID = paths("userId", "traits.userId", "traits.id", "context.traits.userId", "context.traits.id")
EMAIL = paths("traits.email", "context.traits.email", "properties.email", "context.externalId.0.id")
EVENT_TIME = paths("timestamp", "originalTimestamp")
CREATED_AT = paths("traits.createdAt", "context.traits.createdAt")
# A group's traits describe the group, so the member is only looked for elsewhere.
GROUP_MEMBER_ID = paths("userId", "context.traits.userId", "context.traits.id")
GROUP_MEMBER_EMAIL = paths("context.traits.email", "properties.email", "context.externalId.0.id")
GROUP_ID = paths("groupId", "traits.groupId")
GROUP_ACTION = paths("traits.action", "properties.action")


def dig(value: Any, keys: tuple[str | int, ...]) -> Any:
    for key in keys:
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and isinstance(key, int) and key < len(value):
            value = value[key]
        else:
            return None
    return value


def present(value: Any) -> bool:
    return value is not None and value != ""


def first(message: dict[str, Any], paths: tuple[Path, ...]) -> tuple[str, Any] | None:
    """(field name, value) of the first path holding a present value."""
    for name, keys in paths:
        value = dig(message, keys)
        if value is not None and value != "":
            return name, value
    return None


def scalar(field: str, value: Any) -> str | int | float:
    """An identifier as given: Customer.io takes strings, and numbers pass through as the spec allows."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > _MAX_ID_BITS:
            raise InstrumentationError(f"{field} is too large a number to be an identifier")
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    raise InstrumentationError(f"{field} must be a string or a number")


def text(value: str | int | float) -> str:
    """How a number reads in a URL or an object id: 306 -> "306", 3.0 -> "3"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def found_scalar(message: dict[str, Any], paths: tuple[Path, ...]) -> tuple[str, str | int | float] | None:
    hit = first(message, paths)
    return None if hit is None else (hit[0], scalar(*hit))


def user_id(message: dict[str, Any]) -> tuple[str, str | int | float] | None:
    return found_scalar(message, USER_ID)


def email(message: dict[str, Any]) -> tuple[str, str | int | float] | None:
    return found_scalar(message, EMAIL)


def anonymous_id(message: dict[str, Any]) -> str | int | float | None:
    value = message.get("anonymousId")
    return scalar("anonymousId", value) if present(value) else None


def truthy(value: Any) -> bool:
    """JavaScript truthiness, where RudderStack relies on it (an empty object is true)."""
    return value is not None and value is not False and value != "" and value != 0


def object_field(message: dict[str, Any], field: str) -> dict[str, Any] | None:
    """A field that must be a JSON object when it is there (properties, user_properties)."""
    value = message.get(field)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InstrumentationError(f"{field} must be a JSON object")
    return value


def event_millis(message: dict[str, Any]) -> int | None:
    """When the event happened: `timestamp`, else `originalTimestamp`, in unix milliseconds."""
    hit = first(message, EVENT_TIME)
    return None if hit is None else read_millis(hit[1])


def event_seconds(message: dict[str, Any]) -> int | None:
    millis = event_millis(message)
    return None if millis is None else millis // 1000


def without_unreadable_dates(
    message: dict[str, Any], groups: tuple[tuple[Path, ...], ...]
) -> tuple[dict[str, Any], list[str]]:
    """`message` without the dates that no reader can read, and a note for each one left out.

    Each group is a field's paths in the order they are read (timestamp, then originalTimestamp): the
    first readable one is the value, so the paths after it are not looked at. An event is never lost
    over a date: it goes without it, and the note tells the delivery log why. The input is never
    modified: the changed parts are copies.
    """
    notes = []
    for group in groups:
        for name, keys in group:
            value = dig(message, keys)
            if not present(value):
                continue
            if read_millis(value) is not None:
                break
            message = _without(message, keys)
            shown = repr(value) if isinstance(value, str | int | float) else f"a JSON {_json_kind(value)}"
            notes.append(f"{name} {shown[:60]} is not a date, so it was left out of the request")
    return message, notes


def _without(value: Any, keys: tuple[str | int, ...]) -> Any:
    head, rest = keys[0], keys[1:]
    if isinstance(value, dict) and head in value:
        if not rest:
            return {key: item for key, item in value.items() if key != head}
        return {**value, head: _without(value[head], rest)}
    if isinstance(value, list) and isinstance(head, int) and head < len(value):
        copy = list(value)
        copy[head] = _without(value[head], rest) if rest else None
        return copy
    return value


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    return {dict: "object", list: "array"}.get(type(value), "value")


def with_external_id(message: dict[str, Any]) -> dict[str, Any]:
    """Reverse ETL rows (context.mappedToDestination) carry the person in context.externalId[0].

    As RudderStack does, its id becomes the userId and a trait named after its identifierType.
    The input is never modified: the changed parts are copies.
    """
    external = dig(message, ("context", "externalId", 0))
    if not isinstance(external, dict) or not present(external.get("id")):
        return message
    message = {**message, "userId": external["id"]}
    kind = external.get("identifierType")
    if not isinstance(kind, str):
        return message
    if truthy(message.get("traits")):
        if isinstance(message["traits"], dict):
            message["traits"] = {**message["traits"], kind: external["id"]}
        return message
    traits = dig(message, ("context", "traits"))
    if isinstance(traits, dict):
        message["context"] = {**message["context"], "traits": {**traits, kind: external["id"]}}
    return message


def is_identifier(value: Any) -> bool:
    """A value a person can be known by: a string that is not blank, or a number (not a boolean).

    The ingestion API accepts a message only if its userId or anonymousId is one, and the person
    whose deliveries keep their order is the first of the two that is one.
    """
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return isinstance(value, int | float)


def person_key(message: Any) -> str:
    """The ordering key of DESIGN.md invariant 4: userId, else anonymousId ("" for neither); a record's
    person is its identifier (cio_id, id or email)."""
    if not isinstance(message, dict):
        return ""
    if message.get("type") == "record":
        person = record_person(message.get("identifiers"))
        return "" if person is None else text(person[1])
    for field in ("userId", "anonymousId"):
        value = message.get(field)
        if isinstance(value, str):  # nearly always: the ingestion API stores ids as text
            if value.strip():
                return value
        elif is_identifier(value):
            return text(value)
    return ""


RECORD_IDENTIFIERS = ("cio_id", "id", "email")  # a record's person, in order of priority


def record_person(identifiers: Any) -> tuple[str, str | int] | None:
    """A record's person as (identifier, value): the first of RECORD_IDENTIFIERS that names someone (a
    non-blank string or an integer), None for none. The one rule for validation, ordering and sending."""
    if isinstance(identifiers, dict):
        for key in RECORD_IDENTIFIERS:
            value = identifiers.get(key)
            if is_identifier(value) and not isinstance(value, float):
                return key, value
    return None

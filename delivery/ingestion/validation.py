"""What makes a message acceptable: every validation rule of the ingestion API is here.

Messages name the field the way a person would look for it, with the batch index when there is
one (`batch[3].event: ...`), so a data engineer can find the bad item in what their SDK sent.
"""

from __future__ import annotations

import json
import math
from typing import Any

from delivery.ingestion.refusals import IngestError, PayloadTooLarge
from delivery.ingestion.sizes import KB, MAX_EVENT_BYTES, MAX_MESSAGE_ID_LENGTH, MAX_NESTING_DEPTH
from destinations.customerio.config import RECORD_OBJECTS
from destinations.customerio.message import dig, is_identifier, record_person
from destinations.customerio.records import ACTIONS as RECORD_ACTIONS

# The types with a route of their own (/v1/identify ...); every type comes in a batch.
SINGLE_ROUTE_TYPES = ("identify", "track", "page", "screen", "group", "alias")
# A `record` is a row of a table (RudderStack's reverse ETL): it comes from warehouse syncs, in batches.
MESSAGE_TYPES = (*SINGLE_ROUTE_TYPES, "record")
RECORD_OBJECT_IDS = ("object_type_id", "object_id")
IDENTITY_FIELDS = ("userId", "anonymousId")
OBJECT_FIELDS = ("traits", "properties", "context", "integrations")
# Beyond an identity, what each type needs (Segment's spec); the value is an id: a string or a number.
REQUIRED_IDS = {"alias": "previousId", "group": "groupId"}


def at(base: str, field: str) -> str:
    """The path of `field` inside the item at `base` ("" for a single event, "batch[3]" in a batch)."""
    return f"{base}.{field}" if base else field


def _fail(path: str, problem: str) -> IngestError:
    return IngestError(f"{path or 'body'}: {problem}")


def message_type(message: dict, base: str) -> str:
    value = message.get("type")
    if value not in MESSAGE_TYPES:
        shown = "missing" if value is None else f"unknown type {json.dumps(value)[:60]}"
        raise _fail(at(base, "type"), f"{shown}; expected one of {', '.join(MESSAGE_TYPES)}")
    return value


def validate_message(message: dict, kind: str, base: str) -> None:
    """Raise IngestError naming the first field that breaks a rule for a message of type `kind`."""
    if kind == "record":
        _validate_record(message, base)
        return
    for field in IDENTITY_FIELDS:
        value = message.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, str | int | float)):
            raise _fail(at(base, field), "must be a string or a number")
    if not any(is_identifier(message.get(field)) for field in IDENTITY_FIELDS):
        raise _fail(at(base, "userId"), "neither userId nor anonymousId is set; a message needs one of them")
    for field in OBJECT_FIELDS:
        if message.get(field) is not None and not isinstance(message[field], dict):
            raise _fail(at(base, field), "must be an object")
    event = message.get("event")
    if kind == "track" and not (isinstance(event, str) and event.strip()):
        raise _fail(at(base, "event"), "track requires a string event name")
    required = REQUIRED_IDS.get(kind)
    if required and not is_identifier(message.get(required)):
        raise _fail(at(base, required), f"{kind} requires a {required} (a string or a number)")
    _validate_message_id(message.get("messageId"), base)


def _validate_record(message: dict, base: str) -> None:
    """A row: what happened to it, who or what it is about, and its columns."""
    action = message.get("action")
    if not isinstance(action, str) or action not in RECORD_ACTIONS:
        shown = "missing" if action is None else f"unknown action {json.dumps(action)[:60]}"
        raise _fail(at(base, "action"), f"{shown}; expected one of {', '.join(RECORD_ACTIONS)}")
    kind = message.get("object")
    if kind is not None and kind not in RECORD_OBJECTS:
        raise _fail(at(base, "object"), f"must be one of {', '.join(RECORD_OBJECTS)}")
    stated = dig(message, ("connection", "config", "destination", "object"))
    if stated is not None and stated not in RECORD_OBJECTS:
        field = "connection.config.destination.object"
        raise _fail(at(base, field), f"must be one of {', '.join(RECORD_OBJECTS)}")
    kind = kind or stated
    for field in ("identifiers", "fields", "context", "integrations"):
        if message.get(field) is not None and not isinstance(message[field], dict):
            raise _fail(at(base, field), "must be an object")
    identifiers = message.get("identifiers") or {}
    if kind == "object":
        for field in RECORD_OBJECT_IDS:
            if not is_identifier(identifiers.get(field)):
                raise _fail(
                    at(base, f"identifiers.{field}"), "an object record needs it (a string or a number)"
                )
    elif record_person(identifiers) is None:
        raise _fail(at(base, "identifiers"), "a record needs a non-empty cio_id, id or email")
    relationships = message.get("relationships")
    if relationships is not None and not isinstance(relationships, list):
        raise _fail(at(base, "relationships"), "must be a list of people's identifiers")
    _validate_message_id(message.get("messageId"), base)


def _validate_message_id(value: Any, base: str) -> None:
    """A string, or a number (stored as its text), of at most MAX_MESSAGE_ID_LENGTH characters."""
    if value is None:
        return
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value.strip()) > MAX_MESSAGE_ID_LENGTH:
        raise _fail(at(base, "messageId"), f"must be a string of at most {MAX_MESSAGE_ID_LENGTH} characters")


def check_size(message: dict, base: str) -> None:
    """Measure the event as its compact UTF-8 JSON, as received, and prove it can be stored.

    Compact JSON is the smallest form of the same event, so any event that an SDK's own 32 KB check
    (Segment's measures `json.dumps` output) let through is accepted here.
    """
    try:
        text = json.dumps(message, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        size = len(text.encode("utf-8"))
    except (ValueError, UnicodeEncodeError, RecursionError):
        raise _unstorable_error(message, base) from None
    # json.dumps writes a NUL as the escape \u0000; PostgreSQL can store neither in text nor jsonb.
    if "\\u0000" in text and (found := unstorable(message, base)):
        raise _fail(*found)
    # Counting brackets (in strings too) bounds the depth from above, so most events skip the walk.
    if text.count("{") + text.count("[") > MAX_NESTING_DEPTH and nesting_depth(message) > MAX_NESTING_DEPTH:
        raise _fail(base, f"the event is nested more than {MAX_NESTING_DEPTH} levels deep")
    if size > MAX_EVENT_BYTES:
        raise PayloadTooLarge(
            f"{base or 'body'}: the event is {size} bytes, larger than the {MAX_EVENT_BYTES // KB} KB limit"
        )


def _unstorable_error(message: dict, base: str) -> IngestError:
    try:
        found = unstorable(message, base)
    except RecursionError:
        found = None
    return _fail(*found) if found else _fail(base, "the event is nested too deeply to store")


def nesting_depth(value: Any) -> int:
    """How many objects and arrays deep `value` goes (an object of plain values is 1), without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            pending.extend(
                (child, depth + 1) for child in (item.values() if isinstance(item, dict) else item)
            )
    return deepest


def unstorable(value: Any, path: str) -> tuple[str, str] | None:
    """The first value that JSON in PostgreSQL cannot hold, as (path, problem), or None."""
    if isinstance(value, str):
        if "\x00" in value:
            return path, "contains the NUL character (\\u0000), which cannot be stored"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path, "contains an unpaired UTF-16 surrogate, which is not valid Unicode"
    elif isinstance(value, float) and not math.isfinite(value):
        return path, "is a number too large to store"
    elif isinstance(value, dict):
        for key, item in value.items():
            found = unstorable(key, at(path, key)) or unstorable(item, at(path, key))
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = unstorable(item, f"{path}[{index}]")
            if found:
                return found
    return None

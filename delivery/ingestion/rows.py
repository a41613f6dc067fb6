"""Which rows an accepted request writes: the rules, apart from the SQL that writes them (writer.py).

Each new messageId gets one event row and one delivery per connected, enabled destination: pending,
or filtered at once when its integrations object excludes the destination. The searchable columns
(user, email, event name, person) are copied from the message here, by one set of rules that the
delivery log's search and the tests' factories share.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from delivery.engine.filters import integrations_exclusion
from delivery.ingestion.sources import SourceRef
from delivery.models import Delivery, Event, normal_email
from destinations.customerio.message import person_key
from destinations.customerio.records import logged_event_name

# The copied, searchable columns are CharField(max_length=255); the payload keeps the full value.
TEXT_LENGTH = Event._meta.get_field("user_id").max_length
PENDING = Delivery.Status.PENDING.value
FILTERED = Delivery.Status.FILTERED.value


def first_occurrences(messages: Sequence[dict]) -> tuple[list[dict], Counter]:
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
    """The track event, else the page/screen name (a record's event): what a person searches the log for."""
    kind = message["type"]
    if kind == "record":
        return _text(logged_event_name(message))
    return _text(message.get("event") if kind == "track" else message.get("name"))


def user_id(message: dict) -> str:
    if message["type"] == "record":
        return _text(_record_identifier(message, "id"))
    return _text(message.get("userId"))


def _record_identifier(message: dict, key: str) -> Any:
    identifiers = message.get("identifiers")
    value = identifiers.get(key) if isinstance(identifiers, dict) else None
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def email(message: dict) -> str:
    if message["type"] == "record":
        return normal_email(_text(_record_identifier(message, "email")))
    context_traits = (message.get("context") or {}).get("traits")
    for holder in (message.get("traits"), context_traits, message.get("properties")):
        if isinstance(holder, dict) and isinstance(holder.get("email"), str):
            return normal_email(_text(holder["email"]))
    return ""


def person(message: dict) -> str:
    """Whose deliveries keep their order (DESIGN.md invariant 4): the transformer's person_key."""
    return _text(person_key(message))


def event_row(source_id: int, message: dict, received_at: str, repeats: int) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "message_id": message["messageId"],
        "type": message["type"],
        "user_id": user_id(message),
        "anonymous_id": _text(message.get("anonymousId")),
        "email": email(message),
        "event_name": event_name(message),
        "payload": message,
        "received_at": received_at,
        "duplicates_dropped": repeats,
        "last_duplicate_at": received_at if repeats else None,
    }


def delivery_rows(source: SourceRef, messages: list[dict], stamp: str) -> list[dict[str, Any]]:
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

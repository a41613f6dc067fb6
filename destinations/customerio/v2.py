"""The "apiVersion": "v2" mode: every message as one item of POST /api/v2/batch.

Reference: https://docs.customer.io/integrations/api/track/#operation/batch. Items are "person"
actions (identify, event, page, screen, merge, add_device, delete_device, delete) or "object" actions
(groups, object records).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from destinations.customerio.attributes import person_attributes
from destinations.customerio.config import TransformConfig
from destinations.customerio.dates import convert_dates
from destinations.customerio.dedup import event_id
from destinations.customerio.devices import context_attributes, device_token, platform
from destinations.customerio.errors import InstrumentationError
from destinations.customerio.events import (
    APPLICATION_UNINSTALLED,
    is_device_event,
    page_name,
    screen_name,
    track_name,
    viewed_screen,
)
from destinations.customerio.identity import Person, anonymous_person, known_person, merge_pair
from destinations.customerio.message import event_millis, event_seconds, object_field
from destinations.customerio.objects import object_item
from destinations.customerio.records import record_item

Message = dict[str, Any]
Item = dict[str, Any]


def identify(message: Message, config: TransformConfig) -> Item:
    """A person "identify": add or update the person and their attributes."""
    person = known_person(message, config)
    if person is None:
        raise InstrumentationError("userId or email is not present")
    return _person(person, "identify", attributes=person_attributes(message, config))


def track(message: Message, config: TransformConfig) -> Item:
    """A person "event", or add_device/delete_device for mobile lifecycle events."""
    name = track_name(message)
    if is_device_event(name, config):
        device = _device(message, config, name)
        if device is not None:
            return device
    return _event(message, config, "event", name)


def page(message: Message, config: TransformConfig) -> Item:
    """A person "page", named by the page."""
    name = page_name(message)
    if name is None:
        raise InstrumentationError("a page needs a name: name or properties.url")
    return _event(message, config, "page", name)


def screen(message: Message, config: TransformConfig) -> Item:
    """A person "screen" named "Viewed {screen} Screen", as RudderStack names it."""
    return _event(message, config, "screen", viewed_screen(screen_name(message)))


def group(message: Message, config: TransformConfig) -> Item:
    """An "object" item, the same as in v1."""
    return object_item(message, config)


def alias(message: Message, config: TransformConfig) -> Item:
    """A person "merge"."""
    return {"type": "person", "action": "merge", **merge_pair(message, config)}


def _person(person: Person, action: str, **fields: Any) -> Item:
    return {"type": "person", "action": action, "identifiers": person.identifiers(), **fields}


def _event(message: Message, config: TransformConfig, action: str, name: str) -> Item:
    person = known_person(message, config) or anonymous_person(message, config)
    if person is None:
        raise InstrumentationError("userId, email or anonymousId is required")
    item = _person(person, action, name=name, attributes=_properties(message, config))
    millis = event_millis(message)
    if millis is not None:
        item["timestamp"] = millis // 1000
    dedup = event_id(message, millis) if config.deduplication_ids else None
    if dedup is not None:
        item["id"] = dedup
    return item


def _device(message: Message, config: TransformConfig, name: str) -> Item | None:
    """add_device or delete_device; None when the event goes out as a plain event instead."""
    person = known_person(message, config)
    token = device_token(message)
    if name == APPLICATION_UNINSTALLED:
        if person is None or token is None:
            raise InstrumentationError(
                f"{name} deletes a device: it needs userId or an email, and context.device.token"
            )
        return _person(person, "delete_device", device={"token": token})
    if person is None or token is None:
        return None
    device: dict[str, Any] = {"token": token}
    seconds = event_seconds(message)
    if seconds is not None:
        device["last_used"] = seconds
    device["attributes"] = {**context_attributes(message), **_properties(message, config)}
    kind = platform(message)
    if kind is not None:
        device["platform"] = kind
    return _person(person, "add_device", device=device)


def _properties(message: Message, config: TransformConfig) -> dict[str, Any]:
    properties = object_field(message, "properties") or {}
    return convert_dates(properties) if config.convert_to_unix_time else properties


BUILDERS: dict[str, Callable[[Message, TransformConfig], Item]] = {
    "identify": identify,
    "track": track,
    "page": page,
    "screen": screen,
    "group": group,
    "alias": alias,
    "record": record_item,
}

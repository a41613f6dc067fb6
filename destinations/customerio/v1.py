"""The default mode: one Track API v1 request per message, as RudderStack's Customer.io destination.

One function per message type; https://docs.customer.io/integrations/api/track/ describes each call.
Groups have no v1 call, so they go to /api/v2/batch as objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from destinations.customerio import endpoints
from destinations.customerio.attributes import person_attributes
from destinations.customerio.config import TransformConfig
from destinations.customerio.dates import convert_dates
from destinations.customerio.dedup import event_id
from destinations.customerio.devices import device_token, platform
from destinations.customerio.endpoints import path_segment
from destinations.customerio.errors import InstrumentationError
from destinations.customerio.events import (
    APPLICATION_UNINSTALLED,
    anonymous_screen,
    cut,
    is_device_event,
    page_name,
    screen_name,
    track_name,
    viewed_screen,
)
from destinations.customerio.identity import Person, anonymous_person, known_person, merge_pair
from destinations.customerio.limits import MAX_EVENT_NAME_BYTES
from destinations.customerio.message import event_millis, event_seconds, object_field, text
from destinations.customerio.objects import object_item
from destinations.customerio.outgoing import OutgoingRequest, batch_request, request
from destinations.customerio.records import record_item

Message = dict[str, Any]


def identify(message: Message, config: TransformConfig) -> OutgoingRequest:
    """PUT /api/v1/customers/{id}: add or update a person and their attributes."""
    person = known_person(message, config)
    if person is None:
        raise InstrumentationError("userId or email is not present")
    attributes = person_attributes(message, config)
    if config.cio_identifiers and person.key == "email":
        attributes.setdefault("email", person.value)  # an email-shaped userId is the person's email
    return request(config, endpoints.IDENTIFY, attributes, id=person.path())


def track(message: Message, config: TransformConfig) -> OutgoingRequest:
    """POST /api/v1/customers/{id}/events, or a device call for mobile lifecycle events."""
    name = track_name(message)
    if is_device_event(name, config):
        device = _device(message, config, name)
        if device is not None:
            return device
    return _event(message, config, "event", name, None)


def page(message: Message, config: TransformConfig) -> OutgoingRequest:
    """An event of type "page", named by the page."""
    return _event(message, config, "page", page_name(message), None)


def screen(message: Message, config: TransformConfig) -> OutgoingRequest:
    """An event "Viewed {screen} Screen", as RudderStack names screens."""
    name = screen_name(message)
    return _event(message, config, "event", viewed_screen(name), anonymous_screen(name))


def group(message: Message, config: TransformConfig) -> OutgoingRequest:
    """POST /api/v2/batch with one object item: v1 has no call for objects."""
    return batch_request(config, object_item(message, config))


def alias(message: Message, config: TransformConfig) -> OutgoingRequest:
    """POST /api/v1/merge_customers."""
    return request(config, endpoints.MERGE, merge_pair(message, config))


def record(message: Message, config: TransformConfig) -> OutgoingRequest:
    """A reverse-ETL row: PUT or DELETE /api/v1/customers/{id}, an event, or an object in /api/v2/batch."""
    item = record_item(message, config)
    if item["type"] == "object":
        return batch_request(config, item)
    ((key, value),) = item["identifiers"].items()
    person = Person(key, value, f"identifiers.{key}").path()
    if item["action"] == "identify":
        attributes = item.get("attributes", {})
        if "timestamp" in item:
            attributes = {**attributes, "_timestamp": item["timestamp"]}  # when the row changed
        return request(config, endpoints.IDENTIFY, attributes, id=person)
    if item["action"] == "delete":
        return request(config, endpoints.DELETE_PERSON, None, id=person)
    body = {"name": item["name"], "data": item.get("attributes", {})}
    for key in ("timestamp", "id"):
        if key in item:
            body[key] = item[key]
    return request(config, endpoints.TRACK, body, id=person)


def _event(
    message: Message, config: TransformConfig, kind: str, name: str | None, anonymous_name: str | None
) -> OutgoingRequest:
    """An event of a known person, else an anonymous one (whose name Customer.io limits to 100 bytes)."""
    body: dict[str, Any] = {"type": kind}
    data = object_field(message, "properties")
    if data is not None:
        body["data"] = convert_dates(data) if config.convert_to_unix_time else data
    if name is not None:
        body["name"] = name
    millis = event_millis(message)
    if millis is not None:
        body["timestamp"] = millis // 1000
    dedup = event_id(message, millis) if config.deduplication_ids else None
    if dedup is not None:
        body["id"] = dedup
    person = known_person(message, config)
    if person is not None:
        return request(config, endpoints.TRACK, body, id=person.path())
    anonymous = anonymous_person(message, config)
    if anonymous is None:
        raise InstrumentationError("an event needs userId, an email or anonymousId")
    if anonymous_name is None:
        if name is None:
            raise InstrumentationError("an anonymous page needs a name: name or properties.url")
        anonymous_name = cut(name, MAX_EVENT_NAME_BYTES, "event")
    body["name"] = anonymous_name
    body["anonymous_id"] = anonymous.value
    return request(config, endpoints.TRACK_ANONYMOUS, body)


def _device(message: Message, config: TransformConfig, name: str) -> OutgoingRequest | None:
    """Add or delete a push device; None when RudderStack would send a plain event instead."""
    person = known_person(message, config)
    token = device_token(message)
    if name == APPLICATION_UNINSTALLED:
        if person is None or token is None:
            raise InstrumentationError(
                f"{name} deletes a device: it needs userId or an email, and context.device.token"
            )
        segment = path_segment(text(token), "context.device.token")
        return request(config, endpoints.DELETE_DEVICE, None, id=person.path(), token=segment)
    if person is None or token is None:
        return None
    properties = object_field(message, "properties") or {}
    device = {**(convert_dates(properties) if config.convert_to_unix_time else properties), "id": token}
    seconds = event_seconds(message)
    if seconds is not None:
        device["last_used"] = seconds
    kind = platform(message)
    if kind is not None:
        device["platform"] = kind
    return request(config, endpoints.ADD_DEVICE, {"device": device}, id=person.path())


BUILDERS: dict[str, Callable[[Message, TransformConfig], OutgoingRequest]] = {
    "identify": identify,
    "track": track,
    "page": page,
    "screen": screen,
    "group": group,
    "alias": alias,
    "record": record,
}

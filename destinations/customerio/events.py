"""Names of track, page and screen events, and which events are about devices."""

from __future__ import annotations

from typing import Any

from destinations.customerio.config import TransformConfig
from destinations.customerio.errors import InstrumentationError
from destinations.customerio.limits import MAX_SCREEN_NAME_BYTES, SCREEN_NAME_FRAME
from destinations.customerio.message import first, paths, text

# Segment's mobile lifecycle events; with a device token they register or remove a push device.
APPLICATION_INSTALLED = "Application Installed"
APPLICATION_OPENED = "Application Opened"
APPLICATION_UNINSTALLED = "Application Uninstalled"
_DEVICE_EVENTS = frozenset({APPLICATION_INSTALLED, APPLICATION_OPENED, APPLICATION_UNINSTALLED})

_PAGE_NAME = paths("name", "properties.url")
_SCREEN_NAME = paths("event", "properties.name")


def track_name(message: dict[str, Any]) -> str:
    event = message.get("event")
    if not isinstance(event, str) or not event:
        raise InstrumentationError("event is required for a track call and must be a string")
    return event


def page_name(message: dict[str, Any]) -> str | None:
    """The page's name, else its URL; Customer.io shows it as the page viewed."""
    hit = first(message, _PAGE_NAME)
    return None if hit is None else _name(*hit)


def screen_name(message: dict[str, Any]) -> str:
    hit = first(message, _SCREEN_NAME)
    if hit is None:
        raise InstrumentationError("a screen call needs a name: event or properties.name")
    return _name(*hit)


def viewed_screen(name: str) -> str:
    return SCREEN_NAME_FRAME.format(name)


def anonymous_screen(name: str) -> str:
    """The screen's event name, cut so the whole stays within the anonymous event name limit."""
    return viewed_screen(cut(name, MAX_SCREEN_NAME_BYTES, "event"))


def is_device_event(name: str, config: TransformConfig) -> bool:
    return name in _DEVICE_EVENTS or (
        bool(config.device_token_event_name) and name == config.device_token_event_name
    )


def cut(name: str, max_bytes: int, field: str) -> str:
    """`name` shortened to at most `max_bytes` of UTF-8, never splitting a character."""
    try:
        encoded = name.encode()
    except UnicodeEncodeError:
        raise InstrumentationError(f"{field} is not valid Unicode text") from None
    if len(encoded) <= max_bytes:
        return name
    # A character cut in half at the end is dropped whole.
    return encoded[:max_bytes].decode(errors="ignore")


def _name(field: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return text(value)  # RudderStack names a page 404 "404"
    raise InstrumentationError(f"{field} must be a string")

"""Customer.io's size limits, checked before sending so that a bad event fails here, clearly, and
alone, instead of as a 400 for a whole batch later.

The 32 KB limit on a request (or batch item) is always checked; the others only when the destination
turns on "checkLimits".
"""

from __future__ import annotations

from typing import Any

from destinations.customerio.errors import InstrumentationError
from destinations.customerio.limits import (
    MAX_ATTRIBUTE_NAME_BYTES,
    MAX_ATTRIBUTE_VALUE_BYTES,
    MAX_ATTRIBUTES,
    MAX_ID_BYTES,
    MAX_ITEM_BYTES,
)
from destinations.customerio.message import text
from destinations.customerio.outgoing import encode_json


def utf8_length(value: str, field: str) -> int:
    try:
        return len(value.encode())
    except UnicodeEncodeError:
        raise InstrumentationError(f"{field} is not valid Unicode text") from None


def json_length(value: Any, field: str) -> int:
    try:
        return len(encode_json(value))
    except UnicodeEncodeError:
        raise InstrumentationError(f"{field} holds text that is not valid Unicode") from None


def check_item_size(body: Any) -> None:
    size = json_length(body, "the message")
    if size > MAX_ITEM_BYTES:
        raise InstrumentationError(
            f"the request for this message is {size} bytes of JSON, over Customer.io's 32 KB limit "
            f"({MAX_ITEM_BYTES} bytes) for one request or batch item"
        )


def check_id(field: str, value: str | int | float) -> None:
    size = utf8_length(text(value), field)
    if size > MAX_ID_BYTES:
        raise InstrumentationError(
            f"{field} is {size} bytes, over Customer.io's limit of {MAX_ID_BYTES} bytes for an identifier"
        )


def check_attributes(source: str, attributes: dict[str, Any]) -> None:
    """Names and values of attributes copied from `source` (traits, user_properties)."""
    for name, value in attributes.items():
        field = f"{source}.{name}"
        if utf8_length(name, field) > MAX_ATTRIBUTE_NAME_BYTES:
            raise InstrumentationError(
                f"{field}: the attribute name is over Customer.io's limit of "
                f"{MAX_ATTRIBUTE_NAME_BYTES} bytes for attribute names"
            )
        size = utf8_length(value, field) if isinstance(value, str) else json_length(value, field)
        if size > MAX_ATTRIBUTE_VALUE_BYTES:
            raise InstrumentationError(
                f"{field} is {size} bytes, over Customer.io's limit of "
                f"{MAX_ATTRIBUTE_VALUE_BYTES} bytes for an attribute value"
            )


def check_attribute_count(source: str, attributes: dict[str, Any]) -> None:
    if len(attributes) > MAX_ATTRIBUTES:
        raise InstrumentationError(
            f"{source} has {len(attributes)} attributes, over Customer.io's limit of "
            f"{MAX_ATTRIBUTES} attributes in one request"
        )

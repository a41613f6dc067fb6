"""A person's attributes, from an identify call's traits.

Reference: https://docs.customer.io/integrations/api/track/#operation/identify. As in RudderStack:
the address is flattened into city/country/postalCode/state/street (an address that is not an object
is left out), keys with dots stay literal, createdAt becomes created_at in unix seconds, and the
deprecated top-level user_properties are merged in v1 (RudderStack's v2 leaves them out, and so do we).
"""

from __future__ import annotations

from typing import Any

from destinations.customerio.checks import check_attribute_count, check_attributes
from destinations.customerio.config import TransformConfig
from destinations.customerio.dates import convert_dates, read_seconds
from destinations.customerio.errors import InstrumentationError
from destinations.customerio.message import (
    CREATED_AT,
    anonymous_id,
    dig,
    event_seconds,
    first,
    object_field,
    truthy,
)

ADDRESS_FIELDS = ("city", "country", "postalCode", "state", "street")
# Identifiers the SDK sets, and createdAt, which is sent as created_at.
_NOT_ATTRIBUTES = frozenset({"createdAt", "userId", "anonymousId"})


def person_attributes(message: dict[str, Any], config: TransformConfig) -> dict[str, Any]:
    source, traits = identify_traits(message)
    attributes = _flattened(traits)
    if config.check_limits:
        check_attributes(source, attributes)
    user_properties = object_field(message, "user_properties") if config.api_version == "v1" else None
    if user_properties:
        if config.check_limits:
            check_attributes("user_properties", user_properties)
        attributes.update(user_properties)
    if config.convert_to_unix_time:
        attributes = convert_dates(attributes)
    created = first(message, CREATED_AT)
    # Unix seconds; transform() has already left out a createdAt that is not a date.
    seconds = None if created is None else read_seconds(created[1])
    if seconds is not None:
        attributes["created_at"] = seconds
    seconds = event_seconds(message)
    if seconds is not None:
        attributes["_timestamp"] = seconds  # orders updates, and dates historical imports
    anonymous = anonymous_id(message)
    if anonymous is not None:
        attributes["anonymous_id"] = anonymous  # merges the person's earlier anonymous events
    if config.check_limits:
        check_attribute_count(source, attributes)
    return attributes


def identify_traits(message: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """`traits`, or `context.traits` when there are none (RudderStack's mobile SDKs put them there)."""
    source, traits = "traits", message.get("traits")
    if not truthy(traits):
        source, traits = "context.traits", dig(message, ("context", "traits"))
    if not truthy(traits):
        return source, {}
    if not isinstance(traits, dict):
        raise InstrumentationError(f"{source} must be a JSON object")
    return source, traits


def _flattened(traits: dict[str, Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    address = traits.get("address")
    nested = isinstance(address, dict)
    if nested:
        for key in ADDRESS_FIELDS:
            if key in address:
                attributes[key] = address[key]
    for key, value in traits.items():
        if key not in _NOT_ATTRIBUTES and key != "address":
            attributes[key] = value
    return attributes

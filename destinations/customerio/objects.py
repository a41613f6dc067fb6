"""A group call as a Customer.io object, related to the person who made the call.

Reference: https://docs.customer.io/integrations/api/track/#operation/batch (type "object"). Objects
only exist in the v2 API, so even a v1 destination sends groups through /api/v2/batch.
"""

from __future__ import annotations

from typing import Any

from destinations.customerio.checks import check_attribute_count, check_attributes, check_id
from destinations.customerio.config import TransformConfig
from destinations.customerio.dates import convert_dates
from destinations.customerio.errors import InstrumentationError
from destinations.customerio.identity import reference
from destinations.customerio.message import (
    GROUP_ACTION,
    GROUP_ID,
    GROUP_MEMBER_EMAIL,
    GROUP_MEMBER_ID,
    first,
    found_scalar,
    object_field,
    present,
    scalar,
    text,
)

OBJECT_ACTIONS = ("identify", "delete", "add_relationships", "delete_relationships")
DEFAULT_OBJECT_ACTION = "identify"
# Customer.io numbers object types from 1, the first type a workspace creates.
DEFAULT_OBJECT_TYPE_ID = "1"


def object_item(message: dict[str, Any], config: TransformConfig) -> dict[str, Any]:
    traits = object_field(message, "traits") or {}
    return {
        "type": "object",
        "action": _action(message),
        "identifiers": {"object_id": _object_id(message, config), "object_type_id": _type_id(traits)},
        "attributes": _attributes(traits, config),
        "cio_relationships": _relationships(message, config),
    }


def _object_id(message: dict[str, Any], config: TransformConfig) -> str:
    hit = found_scalar(message, GROUP_ID)
    if hit is None:
        raise InstrumentationError("groupId is required for a group call")
    object_id = text(hit[1])
    if config.check_limits:
        check_id(hit[0], object_id)
    return object_id


def _type_id(traits: dict[str, Any]) -> str:
    value = traits.get("objectTypeId")
    return text(scalar("traits.objectTypeId", value)) if present(value) else DEFAULT_OBJECT_TYPE_ID


def _action(message: dict[str, Any]) -> str:
    hit = first(message, GROUP_ACTION)
    action = None if hit is None else hit[1]
    return action if isinstance(action, str) and action in OBJECT_ACTIONS else DEFAULT_OBJECT_ACTION


def _attributes(traits: dict[str, Any], config: TransformConfig) -> dict[str, Any]:
    attributes = {key: value for key, value in traits.items() if key != "action"}
    if config.check_limits:
        check_attributes("traits", attributes)
        check_attribute_count("traits", attributes)
    return convert_dates(attributes) if config.convert_to_unix_time else attributes


def _relationships(message: dict[str, Any], config: TransformConfig) -> list[dict[str, Any]]:
    member = found_scalar(message, GROUP_MEMBER_ID)
    if member is not None:
        return [{"identifiers": reference(member[0], text(member[1]), config)}]
    member = found_scalar(message, GROUP_MEMBER_EMAIL)
    if member is not None:
        return [{"identifiers": reference(*member, config)}]
    return []

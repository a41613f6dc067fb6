"""One message and a destination's settings in, the Customer.io request for it out."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from destinations.customerio import records, v1, v2
from destinations.customerio.checks import check_item_size
from destinations.customerio.config import TransformConfig
from destinations.customerio.errors import InstrumentationError
from destinations.customerio.message import (
    CREATED_AT,
    EVENT_TIME,
    truthy,
    with_external_id,
    without_unreadable_dates,
)
from destinations.customerio.outgoing import OutgoingRequest, batch_request

MESSAGE_TYPES = tuple(v1.BUILDERS)


def transform(message: Any, config: TransformConfig | Any) -> list[OutgoingRequest]:
    """The request(s) for one message, or a TransformError saying why there are none.

    A message that travels in a batch (groups in v1, everything in v2) comes back as a request to
    /api/v2/batch with one item, for `combine` to merge with others. A date that cannot be read is
    left out rather than failing the message; the request's `notes` say so.
    """
    settings = TransformConfig.from_mapping(config)
    fields = _readable(message)
    kind = _message_type(fields)
    fields, notes = without_unreadable_dates(fields, _dates_of(kind, fields, settings))
    try:
        if settings.api_version == "v2":
            item = v2.BUILDERS[kind](fields, settings)
            check_item_size(item)
            request = batch_request(settings, item)
        else:
            request = v1.BUILDERS[kind](fields, settings)
            check_item_size(request.body["batch"][0] if request.is_batch else request.body)
    except RecursionError:
        raise InstrumentationError("the message is nested too deeply to be sent as JSON") from None
    return [replace(request, notes=tuple(notes)) if notes else request]


def _dates_of(kind: str, message: dict[str, Any], config: TransformConfig) -> tuple:
    """Where the dates this message's request is built from sit, each date's paths in reading order."""
    if kind == "record":
        return () if records.record_object(message, config) == "object" else (records.CREATED_AT,)
    return (EVENT_TIME, CREATED_AT) if kind == "identify" else (EVENT_TIME,)


def _readable(message: Any) -> dict[str, Any]:
    if not isinstance(message, dict):
        raise InstrumentationError("the message must be a JSON object")
    context = message.get("context")
    if isinstance(context, dict) and truthy(context.get("mappedToDestination")):
        return with_external_id(message)
    return message


def _message_type(message: dict[str, Any]) -> str:
    kind = message.get("type")
    if not isinstance(kind, str):
        raise InstrumentationError("type is required and must be a string")
    if kind.lower() not in v1.BUILDERS:
        raise InstrumentationError(
            f"type {kind[:40]!a} is not a message type Customer.io takes: " + ", ".join(MESSAGE_TYPES)
        )
    return kind.lower()

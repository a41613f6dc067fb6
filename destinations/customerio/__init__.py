"""The Customer.io transformer: Segment/RudderStack-spec messages to Track API requests.

Pure Python, no Django and no I/O: the delivery engine calls `transform_stream` (one destination's
claimed messages) and sends what comes back; the event tester previews one message with `transform`.
DEPARTURES.md, beside this file, lists where it departs from RudderStack's transformer on purpose.
"""

from destinations.customerio.batching import Combined, combine
from destinations.customerio.config import TransformConfig
from destinations.customerio.endpoints import HOSTS
from destinations.customerio.errors import ConfigurationError, InstrumentationError, TransformError
from destinations.customerio.limits import (
    MAX_ATTRIBUTE_NAME_BYTES,
    MAX_ATTRIBUTE_VALUE_BYTES,
    MAX_ATTRIBUTES,
    MAX_BATCH_BYTES,
    MAX_BATCH_ITEMS,
    MAX_EVENT_NAME_BYTES,
    MAX_ID_BYTES,
    MAX_ITEM_BYTES,
)
from destinations.customerio.message import is_identifier, person_key
from destinations.customerio.outgoing import OutgoingRequest, encode_json
from destinations.customerio.stream import Stream, StreamResult, failing, transform_stream
from destinations.customerio.transform import transform

__all__ = [
    "HOSTS",
    "MAX_ATTRIBUTES",
    "MAX_ATTRIBUTE_NAME_BYTES",
    "MAX_ATTRIBUTE_VALUE_BYTES",
    "MAX_BATCH_BYTES",
    "MAX_BATCH_ITEMS",
    "MAX_EVENT_NAME_BYTES",
    "MAX_ID_BYTES",
    "MAX_ITEM_BYTES",
    "Combined",
    "ConfigurationError",
    "InstrumentationError",
    "OutgoingRequest",
    "Stream",
    "StreamResult",
    "TransformConfig",
    "TransformError",
    "combine",
    "encode_json",
    "failing",
    "is_identifier",
    "person_key",
    "transform",
    "transform_stream",
]

"""The Customer.io transformer: Segment/RudderStack-spec messages to Track API requests.

Pure Python, no Django and no I/O: the delivery engine calls `transform` (one message) or
`transform_stream` (one destination's stream), then sends what comes back.
"""

from destinations.customerio.batching import combine
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
from destinations.customerio.outgoing import OutgoingRequest, encode_json
from destinations.customerio.stream import StreamResult, transform_stream
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
    "ConfigurationError",
    "InstrumentationError",
    "OutgoingRequest",
    "StreamResult",
    "TransformConfig",
    "TransformError",
    "combine",
    "encode_json",
    "transform",
    "transform_stream",
]

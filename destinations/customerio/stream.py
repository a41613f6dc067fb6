"""The router level: one destination's stream of messages in, what to send (and what failed) out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from destinations.customerio.batching import combine
from destinations.customerio.config import TransformConfig
from destinations.customerio.errors import ConfigurationError, TransformError
from destinations.customerio.message import person_key
from destinations.customerio.outgoing import OutgoingRequest
from destinations.customerio.transform import transform


@dataclass(frozen=True)
class StreamResult:
    """One request to send with the indexes of the messages it carries, or one message that failed."""

    messages: list[int]
    request: OutgoingRequest | None = None
    error: TransformError | None = None

    def __post_init__(self) -> None:
        if (self.request is None) == (self.error is None):
            raise ValueError("a StreamResult holds exactly one of request and error")

    def to_dict(self) -> dict[str, Any]:
        if self.request is not None:
            return {"messages": self.messages, "request": self.request.to_dict()}
        assert self.error is not None
        return {"messages": self.messages, "error": self.error.to_dict()}


def transform_stream(messages: Iterable[Any], config: TransformConfig | Any) -> list[StreamResult]:
    """Transform each message, then combine: the requests in sending order, then the failures in input
    order, which is how RudderStack's router answers."""
    messages = list(messages)
    try:
        settings = TransformConfig.from_mapping(config)
    except ConfigurationError as error:
        return [StreamResult([index], error=error) for index in range(len(messages))]
    entries: list[tuple[int, str, OutgoingRequest]] = []
    failed: list[StreamResult] = []
    for index, message in enumerate(messages):
        try:
            requests = transform(message, settings)
        except TransformError as error:
            failed.append(StreamResult([index], error=error))
            continue
        person = person_key(message)
        entries.extend((index, person, request) for request in requests)
    sent = [StreamResult(refs, request=request) for refs, request in combine(entries)]
    return sent + failed

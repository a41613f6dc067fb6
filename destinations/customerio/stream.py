"""The router level: one destination's stream of messages in; what to send, and what failed, out.

The delivery engine sends what this returns, and the router conformance vectors test it, so the
vectors test the engine's own path.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from destinations.customerio.batching import Combined, combine
from destinations.customerio.config import TransformConfig
from destinations.customerio.errors import TransformError
from destinations.customerio.message import person_key
from destinations.customerio.outgoing import OutgoingRequest
from destinations.customerio.transform import transform

T = TypeVar("T", bound=Hashable)


@dataclass(frozen=True)
class StreamResult:
    """One request to send with the refs of the messages it carries, or one message that failed."""

    messages: list[Any]
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


@dataclass(frozen=True)
class Stream(Generic[T]):
    """A stream transformed: each message's own requests or its error, and the combined requests."""

    # Every message that did not fail, in input order, with the requests made for it (maybe none).
    requests: dict[T, list[OutgoingRequest]] = field(default_factory=dict)
    failed: dict[T, TransformError] = field(default_factory=dict)
    # What to send, in sending order: each person's requests in input order.
    sent: list[Combined[T]] = field(default_factory=list)

    def results(self) -> list[StreamResult]:
        """RudderStack's router answer: the requests in sending order, then the failures in input order."""
        sent = [StreamResult(combined.refs, request=combined.request) for combined in self.sent]
        return sent + [StreamResult([ref], error=error) for ref, error in self.failed.items()]


def transform_stream(messages: Mapping[T, Any] | Iterable[Any], config: TransformConfig | Any) -> Stream:
    """Transform each message, then combine. `messages` maps refs to messages, or is a sequence whose
    indexes are the refs. A config that cannot be read fails every message with its error."""
    by_ref: Mapping[Any, Any] = messages if isinstance(messages, Mapping) else dict(enumerate(messages))
    try:
        settings = TransformConfig.from_mapping(config)
    except TransformError as error:
        return failing(by_ref, error)
    stream: Stream = Stream()
    entries: list[tuple[Any, str, OutgoingRequest]] = []
    for ref, message in by_ref.items():
        try:
            requests = transform(message, settings)
        except TransformError as error:
            stream.failed[ref] = error
            continue
        stream.requests[ref] = requests
        person = person_key(message)
        entries.extend((ref, person, request) for request in requests)
    stream.sent.extend(combine(entries))
    return stream


def failing(messages: Iterable[T], error: TransformError) -> Stream[T]:
    """Every message failed with one error (a destination whose settings cannot be used)."""
    return Stream(failed=dict.fromkeys(messages, error))

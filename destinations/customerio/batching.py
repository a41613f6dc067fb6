"""Merging batch items into as few /api/v2/batch requests as Customer.io's limits allow.

Per-person order (DESIGN.md invariant 4) holds across what `combine` emits: a request for a person
who already has an item waiting in an open batch sends that batch first.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from destinations.customerio.limits import MAX_BATCH_BYTES, MAX_BATCH_ITEMS
from destinations.customerio.outgoing import OutgoingRequest, encode_json

T = TypeVar("T")

_EMPTY_BATCH_BYTES = len(b'{"batch":[]}')


@dataclass(frozen=True)
class Combined(Generic[T]):
    """One request to send and the entries it carries: `refs` once each, in order, and for a batch
    the ref behind each item of its `batch` array (`item_refs`), which a 207's batch_index points into."""

    request: OutgoingRequest
    refs: list[T]
    item_refs: list[T] | None = None


@dataclass
class _OpenBatch(Generic[T]):
    template: OutgoingRequest
    items: list[Any] = field(default_factory=list)
    item_refs: list[T] = field(default_factory=list)
    people: set[str] = field(default_factory=set)
    size: int = _EMPTY_BATCH_BYTES

    def fits(self, item_size: int, max_items: int, max_bytes: int) -> bool:
        # An empty batch takes any item, so an item too big to share still goes out (alone).
        if not self.items:
            return True
        return len(self.items) < max_items and self.size + 1 + item_size <= max_bytes

    def add(self, ref: T, person: str, item: Any, item_size: int) -> None:
        self.size += item_size + (1 if self.items else 0)  # the comma before it
        self.items.append(item)
        self.item_refs.append(ref)
        self.people.add(person)

    def combined(self) -> Combined[T]:
        template = self.template
        request = OutgoingRequest(
            template.method, template.endpoint, dict(template.headers), {"batch": self.items}
        )
        return Combined(request, list(dict.fromkeys(self.item_refs)), self.item_refs)


def combine(
    entries: Iterable[tuple[T, str, OutgoingRequest]],
    *,
    max_items: int = MAX_BATCH_ITEMS,
    max_bytes: int = MAX_BATCH_BYTES,
) -> list[Combined[T]]:
    """The requests to send, in order, each with the refs of the entries it carries.

    `entries` are (ref, person, request) in the order received. Batch requests to the same endpoint
    with the same headers merge, in input order; other requests pass through unchanged.
    """
    sent: list[Combined[T]] = []
    open_batches: dict[Hashable, _OpenBatch[T]] = {}

    def send(key: Hashable) -> None:
        sent.append(open_batches.pop(key).combined())

    for ref, person, request in entries:
        items = request.body["batch"] if request.is_batch else []
        key = _batch_key(request) if items else None
        for waiting in [k for k, batch in open_batches.items() if k != key and person in batch.people]:
            send(waiting)  # this person's earlier items go first
        if not items:
            sent.append(Combined(request, [ref]))
            continue
        for item in items:
            item_size = len(encode_json(item))
            batch = open_batches.get(key)
            if batch is not None and not batch.fits(item_size, max_items, max_bytes):
                send(key)
                batch = None
            if batch is None:
                batch = open_batches[key] = _OpenBatch(request)
            batch.add(ref, person, item, item_size)
    for key in list(open_batches):
        send(key)
    return sent


def _batch_key(request: OutgoingRequest) -> Hashable:
    return request.endpoint, tuple(sorted(request.headers.items()))

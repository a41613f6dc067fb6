"""What the transformer hands to the HTTP module: one request, described, not sent."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from destinations.customerio.endpoints import BATCH, Endpoint

if TYPE_CHECKING:
    from destinations.customerio.config import TransformConfig


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encode_json(value: Any) -> bytes:
    """The bytes a body should be sent as; every size limit is measured on exactly these bytes.

    Raises UnicodeEncodeError for text holding a lone surrogate, and ValueError or TypeError for a
    value JSON cannot carry (NaN, a Python object): no JSON body can hold either.
    """
    return _ENCODER.encode(value).encode()


@dataclass(frozen=True)
class OutgoingRequest:
    method: str
    endpoint: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    # What the transformer left out of the message and why (a date it could not read, say): the delivery
    # log shows these beside the request. Not part of what is sent.
    notes: tuple[str, ...] = field(default=(), compare=False)

    def to_dict(self) -> dict[str, Any]:
        described = {
            "method": self.method,
            "endpoint": self.endpoint,
            "headers": self.headers,
            "body": self.body,
        }
        if self.notes:
            described["notes"] = list(self.notes)
        return described

    @property
    def is_batch(self) -> bool:
        """A POST to /api/v2/batch with a {"batch": [...]} body, which `combine` may merge."""
        return (
            self.method == BATCH.method
            and self.endpoint.endswith(BATCH.path)
            and isinstance(self.body, dict)
            and isinstance(self.body.get("batch"), list)
        )


def request(
    config: TransformConfig, endpoint: Endpoint, body: dict[str, Any] | None, **path: str
) -> OutgoingRequest:
    """A v1 request; `path` fills the endpoint's {placeholders} with already-encoded segments."""
    url = config.base_url + (endpoint.path.format(**path) if path else endpoint.path)
    return OutgoingRequest(endpoint.method, url, config.headers(), body)


def batch_request(config: TransformConfig, item: dict[str, Any]) -> OutgoingRequest:
    """One item for /api/v2/batch, which rejects a body that is not declared as JSON."""
    return OutgoingRequest(
        BATCH.method, config.base_url + BATCH.path, config.headers(json_body=True), {"batch": [item]}
    )

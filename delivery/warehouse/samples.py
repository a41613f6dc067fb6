"""A dry run's sample: the requests the transformer would send for a record, worked out, never sent."""

from __future__ import annotations

from typing import Any

from destinations.customerio import TransformError, transform
from destinations.models import Destination
from destinations.rudderstack_config import transform_config


def sample_requests(message: dict[str, Any], destination: Destination | None) -> dict[str, Any]:
    """The message and what the destination's transformer makes of it (no headers: they hold the key)."""
    sample: dict[str, Any] = {"message": message}
    if destination is None:
        sample["error"] = "the source feeds no enabled destination"
        return sample
    sample["destination"] = destination.name
    try:
        requests = transform(message, transform_config(destination))
    except TransformError as error:
        sample["error"] = f"{error.title}: {error.message}"
    else:
        sample["requests"] = [
            {"method": request.method, "url": request.endpoint, "body": request.body} for request in requests
        ]
    return sample

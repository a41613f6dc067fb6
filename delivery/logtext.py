"""How requests and responses are written into the delivery log: secrets redacted, long text cut."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from cio_project.log_redaction import redact
from delivery.transport import Sendable, redacted_headers

ELLIPSIS = "..."


def cut(text: str, limit: int | None = None) -> str:
    """At most `limit` characters (DELIVERY_RESPONSE_BODY_LIMIT), with "..." appended when cut."""
    limit = settings.DELIVERY_RESPONSE_BODY_LIMIT if limit is None else limit
    return text if len(text) <= limit else text[:limit] + ELLIPSIS


def clean(text: str, limit: int | None = None) -> str:
    """Text from outside (a response body, an error) made fit for the log: redacted, then cut."""
    return cut(redact(text), limit)


def request_snapshot(request: Sendable) -> dict[str, Any]:
    """A request as the transformer made it, for Delivery.requests: Authorization redacted."""
    return {
        "method": request.method,
        "endpoint": request.endpoint,
        "headers": redacted_headers(request.headers),
        "body": request.body,
    }

"""Refusals: the errors the ingestion API answers with, and the one function that turns any of them
into a response.

Bodies carry `error` (the message naming the field) plus `code` and `message`, because the
RudderStack, Segment and Customer.io Python SDKs read `code` and `message` from an error body and
only give up on a 4xx (instead of retrying it for minutes) when they find both.
"""

from __future__ import annotations

import json
import logging

from django.db import Error as DatabaseError
from django.http import HttpResponse
from rest_framework import exceptions

from cio_project import metrics
from delivery.ingestion import refused_requests

logger = logging.getLogger(__name__)


class IngestError(Exception):
    status = 400
    code = "invalid_request"

    def __init__(self, message: str, *, source_id: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        # The source the request named, when it is known before the request is authorized (a disabled
        # source, an origin not allowed): its refusals are shown on that source's pages.
        self.source_id = source_id


class InvalidWriteKey(IngestError):
    status = 401
    code = "invalid_write_key"


class SourceDisabled(IngestError):
    status = 404
    code = "source_disabled"


class OriginNotAllowed(IngestError):
    status = 403
    code = "origin_not_allowed"


class NotFound(IngestError):
    status = 404
    code = "not_found"


class PayloadTooLarge(IngestError):
    status = 413
    code = "payload_too_large"


class UnsupportedEncoding(IngestError):
    status = 415
    code = "unsupported_content_encoding"


class StoreUnavailable(IngestError):
    status = 503
    code = "unavailable"


# Answers that tell the client to send again later. Each closes its connection, so the retry comes on a
# new one: on the kept-alive one it could arrive just as the server closes it for idleness (gunicorn's
# keep-alive is 2 s, a common retry pause), and be cut off unanswered.
RETRY_LATER = (429, 503)


def error_response(status: int, code: str, message: str) -> HttpResponse:
    body = json.dumps({"error": message, "code": code, "message": message})
    response = HttpResponse(body, status=status, content_type="application/json")
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="cio-relay", charset="UTF-8"'
    if status in RETRY_LATER:
        response["Connection"] = "close"
    return response


def ingest_exception_handler(exc: Exception, context: dict) -> HttpResponse | None:
    """DRF's exception handler for the ingestion views: every failure answers in the same shape, and
    is counted by its reason for /metrics; a refusal of the client's request (4xx, not our own 5xx)
    is also recorded for the admin's live view of its source."""
    refusal = _refusal(exc)
    if refusal is None:
        return None
    status, code, message = refusal
    metrics.REQUESTS_REFUSED.labels(str(status), code).inc()
    if status < 500:
        request = context.get("request")
        refused_requests.record(request, status, code, message, _source_id(exc, request))
    response = error_response(status, code, message)
    if isinstance(exc, exceptions.Throttled):
        response["Retry-After"] = str(max(1, int(exc.wait or 1)))
    return response


def _source_id(exc: Exception, request: object) -> int | None:
    """The source a refused request belongs to: None when its write key was missing or unknown."""
    if isinstance(exc, IngestError) and exc.source_id is not None:
        return exc.source_id
    # Set by DRF once authentication succeeded (a SourceRef); read from the instance, since reading
    # request.user would authenticate again.
    user = vars(request).get("_user") if request is not None else None
    return getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None


def _refusal(exc: Exception) -> tuple[int, str, str] | None:
    if isinstance(exc, IngestError):
        return exc.status, exc.code, exc.message
    if isinstance(exc, DatabaseError):
        logger.exception("ingestion: the event store failed; answered 503 and stored nothing")
        return 503, "unavailable", "the event store is unavailable; nothing was stored, retry"
    if isinstance(exc, exceptions.Throttled):
        return 429, "rate_limited", "too many requests for this write key; retry later"
    if isinstance(exc, exceptions.APIException):
        return exc.status_code, exc.default_code, str(exc.detail)
    return None

"""POST /v1/<type>, /v1/batch and the same under /v1/import: validate, fill in, store, then answer.

The answer is 200 only after the events and their deliveries are committed; no Customer.io call
happens here (DESIGN.md invariant 1). One view class serves every endpoint: `message_type` is the
type a single-event endpoint stores (None for a batch), `historical` marks /v1/import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.http import HttpResponse
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from delivery.ingestion.auth import WriteKeyAuthentication
from delivery.ingestion.body import IngestionParser
from delivery.ingestion.enrich import Arrival, fill_in, request_ip
from delivery.ingestion.refusals import IngestError, PayloadTooLarge, ingest_exception_handler
from delivery.ingestion.schema import IngestSchema
from delivery.ingestion.sizes import MAX_BATCH_EVENTS
from delivery.ingestion.store import store
from delivery.ingestion.throttle import WriteKeyRateThrottle
from delivery.ingestion.validation import check_size, message_type, validate_message

# Every SDK we serve accepts any 200 body; Segment's HTTP API answers this one.
SUCCESS_BODY = b'{"success":true}'
JSON_RENDERER = JSONRenderer()


def prepare(item: Any, base: str, kind: str | None, arrival: Arrival) -> dict:
    """One message, checked against every rule and filled in; `kind` None means "read its type"."""
    if not isinstance(item, dict):
        raise IngestError(f"{base or 'body'}: must be a JSON object")
    check_size(item, base)
    kind = kind or message_type(item, base)
    validate_message(item, kind, base)
    return fill_in(item, kind, arrival)


def batch_messages(body: dict, arrival: Arrival) -> list[dict]:
    items = body.get("batch")
    if not isinstance(items, list):
        raise IngestError("batch: must be an array of events")
    if not items:
        raise IngestError("batch: is empty")
    if len(items) > MAX_BATCH_EVENTS:
        raise PayloadTooLarge(f"batch: has {len(items)} events, more than the limit of {MAX_BATCH_EVENTS}")
    # The whole batch is checked before anything is stored: one bad item rejects it all.
    return [prepare(item, f"batch[{index}]", None, arrival) for index, item in enumerate(items)]


class IngestView(APIView):
    message_type: str | None = None
    historical: bool = False

    authentication_classes = [WriteKeyAuthentication]
    parser_classes = [IngestionParser]
    renderer_classes = [JSONRenderer]
    permission_classes: ClassVar[list] = []
    throttle_classes = [WriteKeyRateThrottle]
    schema = IngestSchema()

    def get_exception_handler(self) -> Callable:
        return ingest_exception_handler

    def perform_content_negotiation(self, request: Request, force: bool = False) -> tuple:
        # Every answer is JSON, whatever the client accepts: skip parsing its Accept header.
        return JSON_RENDERER, JSON_RENDERER.media_type

    def post(self, request: Request) -> HttpResponse:
        if request.stream is None:
            raise IngestError("body: the request body is empty")
        body = request.data
        if not isinstance(body, dict):
            raise IngestError("body: must be a JSON object")
        batch_sent_at = body.get("sentAt") if self.message_type is None else None
        arrival = Arrival(
            timezone.now(),
            request_ip(request.META),
            self.historical,
            batch_sent_at,
            request_id=getattr(request, "request_id", ""),
        )
        if self.message_type is None:
            messages = batch_messages(body, arrival)
        else:
            messages = [prepare(body, "", self.message_type, arrival)]
        store(request.user, messages, arrival.received_at)
        return HttpResponse(SUCCESS_BODY, content_type="application/json")

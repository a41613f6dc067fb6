"""The API's views: POST /v1/<type>, /v1/batch and the same under /v1/import (validate, fill in, store,
then answer), the settings documents SDKs fetch before sending, and the JSON 404 for any other path.

The answer to an event is 200 only after the events and their deliveries are committed; no Customer.io
call happens here (DESIGN.md invariant 1). One view class serves every ingestion endpoint:
`message_type` is the type a single-event endpoint stores (None for a batch), `historical` marks
/v1/import. Every answer, refusals included, is JSON in one shape (refusals.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from cio_project.client_address import address_of
from delivery.ingestion.auth import WriteKeyAuthentication, authorized_source, request_write_key
from delivery.ingestion.body import IngestionParser
from delivery.ingestion.enrich import Arrival, fill_in
from delivery.ingestion.refusals import (
    IngestError,
    InvalidWriteKey,
    NotFound,
    PayloadTooLarge,
    error_response,
    ingest_exception_handler,
)
from delivery.ingestion.schema import IngestSchema
from delivery.ingestion.sdk_settings import connected_destinations, project_settings, source_config
from delivery.ingestion.sizes import MAX_BATCH_EVENTS
from delivery.ingestion.store import store
from delivery.ingestion.throttle import WriteKeyRateThrottle
from delivery.ingestion.validation import check_size, message_type, validate_message
from destinations.snippets import server_url

# Every SDK we serve accepts any 200 body; Segment's HTTP API answers this one.
SUCCESS_BODY = b'{"success":true}'
JSON_RENDERER = JSONRenderer()
# SDKs fetch their settings at every page load; a minute's caching spares the server most of them, and a
# changed destination reaches browsers within it.
SETTINGS_CACHE_CONTROL = "private, max-age=60"


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


class SdkEndpoint(APIView):
    """What every route an SDK calls shares: JSON answers in one shape, and a wrong method refused with
    405 before the write key is looked at. Browsers' CORS preflights never get here: the CORS middleware
    answers them; a bare OPTIONS says which methods the route takes. A GET route takes HEAD too, as the
    Allow header says (RudderStack's JS SDK, with `sendAdblockPage`, sends HEAD /sourceConfig/ and takes
    a refusal for an ad blocker)."""

    method: ClassVar[str]

    authentication_classes: ClassVar[list] = []
    renderer_classes = [JSONRenderer]
    permission_classes: ClassVar[list] = []

    def get_exception_handler(self) -> Callable:
        return ingest_exception_handler

    def perform_content_negotiation(self, request: Request, force: bool = False) -> tuple:
        # Every answer is JSON, whatever the client accepts: skip parsing its Accept header.
        return JSON_RENDERER, JSON_RENDERER.media_type

    def perform_authentication(self, request: Request) -> None:
        if request.method == "OPTIONS":
            return
        if request.method not in self.methods():
            raise MethodNotAllowed(request.method)
        super().perform_authentication(request)

    def check_throttles(self, request: Request) -> None:
        if request.method in self.methods():
            super().check_throttles(request)

    def methods(self) -> tuple[str, ...]:
        return (self.method, "HEAD") if self.method == "GET" else (self.method,)

    def options(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponse(status=204, headers={"Allow": f"{self.method}, OPTIONS"})


class IngestView(SdkEndpoint):
    message_type: str | None = None
    historical: bool = False

    method = "POST"
    authentication_classes = [WriteKeyAuthentication]
    parser_classes = [IngestionParser]
    throttle_classes = [WriteKeyRateThrottle]
    schema = IngestSchema()

    def post(self, request: Request) -> HttpResponse:
        if request.stream is None:
            raise IngestError("body: the request body is empty")
        body = request.data
        if not isinstance(body, dict):
            raise IngestError("body: must be a JSON object")
        batch_sent_at = body.get("sentAt") if self.message_type is None else None
        arrival = Arrival(
            timezone.now(),
            address_of(request.META),
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


def document_response(request: Request, document: dict) -> HttpResponse:
    """A settings document, with an ETag so a browser's revalidation costs a 304 (Django compares
    If-None-Match as RFC 9110 says: a list, weak tags, `*`)."""
    body = json.dumps(document, separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    response = get_conditional_response(request, etag=etag)
    if response is None:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = SETTINGS_CACHE_CONTROL
    return response


class SourceConfigView(SdkEndpoint):
    """GET /sourceConfig/: RudderStack's source config, for its JS, iOS and Android SDKs. A disabled
    source is answered as RudderStack answers it, with `enabled: false`, which its SDKs obey."""

    method = "GET"

    def get(self, request: Request) -> HttpResponse:
        key = request_write_key(request, read_body=False)
        source = authorized_source(key, request.headers.get("Origin"), disabled_ok=True)
        destinations = connected_destinations(source.id) if source.enabled else []
        return document_response(request, source_config(source, destinations))


class ProjectSettingsView(SdkEndpoint):
    """GET /v1/projects/<writeKey>/settings: Segment's project settings, for analytics.js
    (analytics-next) and Customer.io's browser and mobile SDKs; an unknown key is a 404, as on
    Segment's CDN."""

    method = "GET"

    def get(self, request: Request, write_key: str) -> HttpResponse:
        try:
            source = authorized_source(write_key, request.headers.get("Origin"))
        except InvalidWriteKey:
            raise NotFound("no source has this write key") from None
        document = project_settings(write_key, server_url(request), connected_destinations(source.id))
        return document_response(request, document)


class SchemaView(SpectacularAPIView):
    """GET /v1/schema: the OpenAPI document; its refusals (a wrong method) in the API's JSON shape."""

    def get_exception_handler(self) -> Callable:
        return ingest_exception_handler


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Any other path under the API's prefixes: the API's JSON error, not an HTML page."""
    # The path is not echoed: under /v1/projects/ it may hold a write key.
    return error_response(404, "not_found", "no such API route; the routes are listed at /v1/schema")

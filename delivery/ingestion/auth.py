"""Who is sending: the source's write key, as HTTP Basic user name (RudderStack's and Segment's SDKs),
as a Bearer token (Customer.io's SDK with a region-prefixed key), as the `writeKey` query parameter
(RudderStack's beacon, which cannot set headers, and its sourceConfig request), or as `writeKey` in the
body (Segment's HTTP API, analytics.js's text/plain requests). The key is never logged nor echoed in a
message. A browser's Origin must be on the source's allowed origins, when it has a list.
"""

from __future__ import annotations

import base64
import binascii

from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from delivery.ingestion.refusals import InvalidWriteKey, OriginNotAllowed, SourceDisabled, StoreUnavailable
from delivery.ingestion.refused_requests import note_offered_key
from delivery.ingestion.sources import SourceRef, find_source
from destinations.crypto import DecryptionError

INVALID_WRITE_KEY = "invalid write key"


def header_write_key(header: str) -> str | None:
    """The write key in an Authorization header, None when there is no such header."""
    scheme, _, credentials = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        return credentials.strip()
    if scheme != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidWriteKey(INVALID_WRITE_KEY) from None
    # The user name is the key; the password is meant to be empty and is not looked at.
    return decoded.partition(":")[0]


def body_write_key(request: Request) -> str | None:
    if request.stream is None:
        return None
    body = request.data
    key = body.get("writeKey") if isinstance(body, dict) else None
    return key if isinstance(key, str) else None


def query_write_key(request: Request) -> str | None:
    key = request.query_params.get("writeKey")
    return key or None


def request_write_key(request: Request, *, read_body: bool = True) -> str | None:
    key = header_write_key(request.META.get("HTTP_AUTHORIZATION", "")) or query_write_key(request)
    if key is None and read_body:
        # Only now read the body: a request with a header is refused before its body is read.
        key = body_write_key(request)
    note_offered_key(request, key)
    return key


def authorized_source(key: str | None, origin: str | None, *, disabled_ok: bool = False) -> SourceRef:
    """The source this write key belongs to, if `origin` (the Origin header) may send for it.

    Raises the refusal to answer with: 401 for a missing or unknown key, 404 for a disabled source
    (unless `disabled_ok`: RudderStack's sourceConfig answers it with `enabled: false`), 403 for an
    origin not on the source's list, 503 when write keys cannot be decrypted.
    """
    if not key:
        raise InvalidWriteKey("missing write key: send it as the HTTP Basic user name")
    try:
        source = find_source(key)
    except DecryptionError:
        raise StoreUnavailable("write keys cannot be decrypted; check SECRETS_ENCRYPTION_KEY") from None
    if source is None:
        raise InvalidWriteKey(INVALID_WRITE_KEY)
    if not source.enabled and not disabled_ok:
        raise SourceDisabled("source is disabled", source_id=source.id)
    if origin and source.allowed_origins and origin not in source.allowed_origins:
        raise OriginNotAllowed(
            f"origin {origin} is not among this source's allowed origins", source_id=source.id
        )
    return source


class WriteKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[SourceRef, None]:
        return authorized_source(request_write_key(request), request.META.get("HTTP_ORIGIN")), None

    def authenticate_header(self, request: Request) -> str:
        return 'Basic realm="cio-relay"'

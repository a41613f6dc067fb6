"""Who is sending: the source's write key, as HTTP Basic user name (RudderStack's and Segment's SDKs),
as a Bearer token (Customer.io's SDK with a region-prefixed key), or as `writeKey` in the body
(Segment's HTTP API). The key is never logged nor echoed in a message.
"""

from __future__ import annotations

import base64
import binascii

from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from delivery.ingestion.refusals import InvalidWriteKey, SourceDisabled, StoreUnavailable
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


class WriteKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[SourceRef, None]:
        key = header_write_key(request.META.get("HTTP_AUTHORIZATION", ""))
        if key is None:
            # Only now read the body: a request with a header is refused before its body is read.
            key = body_write_key(request)
        if not key:
            raise InvalidWriteKey("missing write key: send it as the HTTP Basic user name")
        try:
            source = find_source(key)
        except DecryptionError:
            raise StoreUnavailable("write keys cannot be decrypted; check SECRETS_ENCRYPTION_KEY") from None
        if source is None:
            raise InvalidWriteKey(INVALID_WRITE_KEY)
        if not source.enabled:
            raise SourceDisabled("source is disabled")
        return source, None

    def authenticate_header(self, request: Request) -> str:
        return 'Basic realm="cio-relay"'

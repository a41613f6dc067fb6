"""Reading a request body: at most 4 MB from the wire, gzip or not, strict UTF-8, then JSON.

A DRF parser for any Content-Type: browsers' sendBeacon sends JSON as text/plain, and RudderStack's
server does not look at the header either.
"""

from __future__ import annotations

import json
import zlib
from typing import IO, Any

from rest_framework.parsers import BaseParser

from delivery.ingestion.refusals import IngestError, PayloadTooLarge, UnsupportedEncoding
from delivery.ingestion.refused_requests import note_body
from delivery.ingestion.sizes import MAX_REQUEST_BYTES, MB

GZIP_WBITS = 16 + zlib.MAX_WBITS
# Members of one gzip body (RFC 1952 allows several; every SDK sends one).
MAX_GZIP_MEMBERS = 16
_BOM = "\ufeff"
_TOO_LARGE = f"body: the request is larger than the {MAX_REQUEST_BYTES // MB} MB limit"


class IngestionParser(BaseParser):
    media_type = "*/*"

    def parse(self, stream: IO[bytes], media_type: str | None = None, parser_context: Any = None) -> Any:
        request = parser_context["request"]
        meta = request.META
        if _declared_length(meta) > MAX_REQUEST_BYTES:
            raise PayloadTooLarge(_TOO_LARGE)
        raw = stream.read(MAX_REQUEST_BYTES + 1)
        encoding = meta.get("HTTP_CONTENT_ENCODING", "")
        # Kept on the request for refused_requests, should it be refused: no copy is made.
        note_body(request, len(raw), raw if encoding.strip().lower() in ("", "identity") else None)
        if len(raw) > MAX_REQUEST_BYTES:
            raise PayloadTooLarge(_TOO_LARGE)
        data = decode(raw, encoding)
        note_body(request, len(raw), data)
        return parse_json(data)


def _declared_length(meta: dict) -> int:
    try:
        return int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def decode(raw: bytes, content_encoding: str) -> bytes:
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding in ("gzip", "x-gzip"):
        return gunzip(raw, MAX_REQUEST_BYTES)
    raise UnsupportedEncoding(f"Content-Encoding: {encoding!r} is not supported; send gzip or no encoding")


def gunzip(data: bytes, limit: int) -> bytes:
    """Decompress, never producing more than `limit` + 1 bytes whatever the compression ratio.

    A gzip body may hold several members one after another; SDKs send one. Each member costs a fresh
    decompressor and a copy of what follows it, so a body of thousands of tiny members would cost time
    growing with the square of its size: past MAX_GZIP_MEMBERS the body is refused.
    """
    out = bytearray()
    rest = memoryview(data)
    for _ in range(MAX_GZIP_MEMBERS):
        decompressor = zlib.decompressobj(GZIP_WBITS)
        try:
            out += decompressor.decompress(rest, limit + 1 - len(out))
        except zlib.error:
            raise IngestError("body: the request is not valid gzip") from None
        if len(out) > limit:
            raise PayloadTooLarge(f"{_TOO_LARGE} after decompression")
        if not decompressor.eof:
            raise IngestError("body: the gzip stream is truncated")
        if not decompressor.unused_data:
            return bytes(out)
        rest = rest[len(rest) - len(decompressor.unused_data) :]
    raise IngestError(f"body: the gzip stream has more than {MAX_GZIP_MEMBERS} members")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


def parse_json(data: bytes) -> Any:
    if not data:
        raise IngestError("body: the request body is empty")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise IngestError("body: the request body is not valid UTF-8") from None
    try:
        return json.loads(text.removeprefix(_BOM), parse_constant=_reject_constant)
    except RecursionError:
        raise IngestError("body: the request body is nested too deeply") from None
    except ValueError as error:  # JSONDecodeError, NaN/Infinity, integers over Python's digit limit
        raise IngestError(f"body: the request body is not valid JSON ({error})") from None

"""The Customer.io Track API endpoints the transformer uses, in one table.

Reference: https://docs.customer.io/integrations/api/track/. The hosts are the canonical ones; the HTTP
module maps them to the CIO_TRACK_URL_US/EU settings when it sends.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import quote

from destinations.customerio.errors import InstrumentationError

HOSTS = {"US": "https://track.customer.io", "EU": "https://track-eu.customer.io"}


class Endpoint(NamedTuple):
    method: str
    path: str


IDENTIFY = Endpoint("PUT", "/api/v1/customers/{id}")
DELETE_PERSON = Endpoint("DELETE", "/api/v1/customers/{id}")
TRACK = Endpoint("POST", "/api/v1/customers/{id}/events")
TRACK_ANONYMOUS = Endpoint("POST", "/api/v1/events")
ADD_DEVICE = Endpoint("PUT", "/api/v1/customers/{id}/devices")
DELETE_DEVICE = Endpoint("DELETE", "/api/v1/customers/{id}/devices/{token}")
MERGE = Endpoint("POST", "/api/v1/merge_customers")
BATCH = Endpoint("POST", "/api/v2/batch")

# encodeURIComponent's set: what RudderStack leaves unescaped in path segments.
_UNESCAPED = "!'()*"
_NEEDS_NO_ESCAPING = re.compile(r"[A-Za-z0-9\-_.!~*'()]*")
_DOT_SEGMENTS = (".", "..")


def path_segment(text: str, field: str) -> str:
    """`text` percent-encoded for one path segment, so slashes and unicode stay inside it."""
    if text in _DOT_SEGMENTS:
        # URL normalisation (urllib3, and any proxy on the way) resolves these away, which would send
        # the request to another endpoint: ".../customers/../events" is the anonymous ".../events".
        raise InstrumentationError(f"{field} {text!r} cannot name a person in a Customer.io URL path")
    if _NEEDS_NO_ESCAPING.fullmatch(text):
        return text  # most ids (UUIDs, numbers) are already safe, and quote() is slow
    try:
        return quote(text, safe=_UNESCAPED)
    except UnicodeEncodeError:
        raise InstrumentationError(f"{field} is not valid Unicode text") from None

"""Keeping secrets out of every log line and the delivery log (DESIGN.md invariant 10).

Two nets: HTTP Authorization values and write keys in URLs (RudderStack's `?writeKey=`, Segment's
`/v1/projects/<writeKey>/settings`) are masked by pattern, and every secret this process has decrypted
(destinations/crypto.py registers them) is masked by value, wherever it appears.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "[redacted]"
ELLIPSIS = "..."
_AUTHORIZATION = re.compile(r"((?:Basic|Bearer)\s+)[A-Za-z0-9+/=._~-]+", re.IGNORECASE)
_WRITE_KEY_IN_URL = re.compile(r"((?:[?&]writeKey=)|(?:/v1/projects/))[^&/\s\"']+")
_MIN_SECRET_LENGTH = 6

_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    text = _AUTHORIZATION.sub(lambda match: match.group(1) + MASK, text)
    text = _WRITE_KEY_IN_URL.sub(lambda match: match.group(1) + MASK, text)
    for secret in tuple(_secrets):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def excerpt(text: str, limit: int) -> str:
    """Text from outside (a response body, an error) made fit to keep: redacted, then at most `limit`
    characters, with "..." appended when cut (as Saleor keeps webhook responses)."""
    text = redact(text)
    return text if len(text) <= limit else text[:limit] + ELLIPSIS


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True

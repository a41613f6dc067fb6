"""Customer.io's reporting webhook signature.

Customer.io signs every post with the webhook's signing key: X-CIO-Signature is the hex HMAC-SHA256,
keyed with the signing key, of "v0:<X-CIO-Timestamp>:<raw body>", where X-CIO-Timestamp is the Unix
time of signing (https://docs.customer.io/api/webhooks/, "Securely verifying requests"). Checking
the timestamp too stops a recorded post from being played again later.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-CIO-Signature"
TIMESTAMP_HEADER = "X-CIO-Timestamp"


class SignatureError(Exception):
    """Why a post is not accepted as Customer.io's, in words for the answer (never holding the key)."""


def sign(signing_key: str, timestamp: str, body: bytes) -> str:
    message = b"v0:" + timestamp.encode() + b":" + body
    return hmac.new(signing_key.encode(), message, hashlib.sha256).hexdigest()


def verify(
    signing_key: str,
    signature: str | None,
    timestamp: str | None,
    body: bytes,
    now: float,
    tolerance_seconds: float,
) -> None:
    """Raise SignatureError unless `signature` is Customer.io's for `body`, signed within the tolerance."""
    if not signing_key:
        raise SignatureError(
            "this destination has no reporting webhook signing key: set it in the admin "
            "(Customer.io shows it on the reporting webhook's page)"
        )
    if not signature:
        raise SignatureError(f"the {SIGNATURE_HEADER} header is missing")
    if not timestamp:
        raise SignatureError(f"the {TIMESTAMP_HEADER} header is missing")
    try:
        signed_at = int(timestamp)
    except ValueError:
        raise SignatureError(f"{TIMESTAMP_HEADER} must be a Unix time in seconds") from None
    if abs(now - signed_at) > tolerance_seconds:
        raise SignatureError(
            f"{TIMESTAMP_HEADER} is more than {tolerance_seconds:g} seconds from this server's clock"
        )
    # compare_digest takes the same time wherever the strings differ, so the key cannot be guessed
    # a character at a time from how long refusals take.
    given = signature.strip().lower().encode("utf-8", "replace")
    if not hmac.compare_digest(sign(signing_key, timestamp, body).encode(), given):
        raise SignatureError(f"the {SIGNATURE_HEADER} signature does not match the body")

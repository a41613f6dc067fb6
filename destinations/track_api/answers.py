"""What Customer.io's answer means, decided in one place (DESIGN.md invariant 5).

Track API reference: https://docs.customer.io/integrations/api/track/ (statuses, rate limits, the
v2 batch endpoint and its 207 answer). The rules follow RudderStack's Customer.io network handler,
whose recorded answers are in shared/conformance/delivery.json.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime

from django.db import models
from django.utils import timezone

from cio_project.log_redaction import excerpt
from destinations.track_api.transport import HttpResult


class Outcome(models.TextChoices):
    """What one answer means for a delivery it carried; the delivery log stores it per attempt."""

    DELIVERED = "delivered", "Delivered"
    RETRY = "retry", "Will retry"
    FAILED = "failed", "Failed"


# A reason quotes at most this much of a response body; the SentRequest row keeps more.
REASON_BODY_LIMIT = 500
# Retried even though they are 4xx: the request may succeed later as it is.
# 408: Customer.io timed out reading it; 429: over the rate limit (about 100 requests/s per
# workspace, https://docs.customer.io/integrations/api/track/#section/Limits).
RETRIED_CLIENT_ERRORS = frozenset({408, 429})
# The credentials are wrong: nothing for this destination can succeed until a person fixes them.
CREDENTIAL_ERRORS = frozenset({401, 403})
PARTIAL_SUCCESS = 207


@dataclass(frozen=True)
class Verdict:
    """The meaning of one HTTP exchange, for the request as a whole and for each batch item."""

    outcome: Outcome
    reason: str = ""
    # 207 only: batch_index -> why that item failed; every other item was delivered.
    item_errors: Mapping[int, str] = field(default_factory=dict)
    credentials_rejected: bool = False
    # A 429: the whole destination should slow down, not only this request.
    throttled: bool = False
    retry_after: float | None = None

    def for_item(self, index: int) -> tuple[Outcome, str]:
        if index in self.item_errors:
            return Outcome.FAILED, self.item_errors[index]
        return self.outcome, self.reason


def classify(result: HttpResult) -> Verdict:
    if result.error_kind == "timeout":
        return Verdict(Outcome.RETRY, f"Customer.io did not answer in time ({result.error})")
    if result.error_kind is not None or result.status is None:
        return Verdict(Outcome.RETRY, f"Could not reach Customer.io ({result.error})")
    status = result.status
    said = _answered(result)
    if status == PARTIAL_SUCCESS:
        return Verdict(Outcome.DELIVERED, item_errors=_batch_item_errors(result.response_body))
    if 200 <= status < 300:
        return Verdict(Outcome.DELIVERED)
    if status in RETRIED_CLIENT_ERRORS or status >= 500:
        retry_after = parse_retry_after(result.response_headers.get("Retry-After"))
        return Verdict(Outcome.RETRY, said, throttled=status == 429, retry_after=retry_after)
    if status in CREDENTIAL_ERRORS:
        return Verdict(Outcome.FAILED, f"{said} (check the site ID and API key)", credentials_rejected=True)
    # Other 4xx: the request itself is wrong and would fail again. We never follow redirects, so a
    # 1xx/3xx answer is a misconfigured base URL, which retrying cannot fix either.
    return Verdict(Outcome.FAILED, said)


def credentials_health(verdict: Verdict, at: datetime) -> dict[str, datetime | None]:
    """What an answer says about a destination's credentials, as the Destination fields to update.

    401/403 marks them rejected from `at`; an answer that delivered clears that; any other answer (a
    timeout, a 5xx, a 400 about the request itself) says nothing about them. The delivery engine and the
    admin's Test credentials both record through this, so every page tells the latest word.
    """
    if verdict.credentials_rejected:
        return {"credentials_rejected_at": at}
    if verdict.outcome == Outcome.DELIVERED:
        return {"credentials_rejected_at": None}
    return {}


def _answered(result: HttpResult) -> str:
    body = excerpt(result.response_body.strip(), REASON_BODY_LIMIT)
    return (
        f"Customer.io answered {result.status}: {body}" if body else f"Customer.io answered {result.status}"
    )


def _batch_item_errors(body: str) -> dict[int, str]:
    """A v2 batch's 207 answer: `errors[].batch_index` points into the `batch` array we sent.

    https://docs.customer.io/integrations/api/track/#operation/batch. An entry without a numeric
    batch_index cannot be attributed to an item, so it fails none (as RudderStack does).
    """
    try:
        errors = json.loads(body).get("errors")
    except (ValueError, AttributeError):
        return {}
    failed: dict[int, str] = {}
    for error in errors if isinstance(errors, list) else []:
        index = error.get("batch_index") if isinstance(error, dict) else None
        if isinstance(index, int) and not isinstance(index, bool):
            parts = [f"{key}: {error[key]}" for key in ("reason", "field", "message") if error.get(key)]
            said = ", ".join(parts) or "no details given"
            failed[index] = excerpt(f"Customer.io rejected this item: {said}", REASON_BODY_LIMIT)
    return failed


# Customer.io's own API clients wait at most five minutes whatever Retry-After says; a larger value is a
# bug on the way (a proxy, say), and an unbounded one would overflow any date it is added to.
MAX_RETRY_AFTER_SECONDS = 300.0


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (RFC 9110 10.2.3),
    at most MAX_RETRY_AFTER_SECONDS."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        return None
    return min(max(0.0, (moment - (now or timezone.now())).total_seconds()), MAX_RETRY_AFTER_SECONDS)

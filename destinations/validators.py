"""Shapes of Customer.io credentials, checked wherever a destination is saved (admin, CLI, import)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

_SITE_ID = re.compile(r"[A-Za-z0-9]{1,100}")
_HEX = re.compile(r"[0-9a-fA-F]+")
# Customer.io Track API keys are hexadecimal: 20 characters (classic) or 64.
API_KEY_LENGTHS = (20, 64)


def validate_site_id(value: str) -> None:
    if not _SITE_ID.fullmatch(value or ""):
        raise ValidationError(
            "Site ID must be letters and digits only (Customer.io: Settings > Workspace Settings > "
            "API and Webhook Credentials).",
            code="invalid_site_id",
        )


def validate_api_key(value: str) -> None:
    if not value or not _HEX.fullmatch(value) or len(value) not in API_KEY_LENGTHS:
        raise ValidationError(
            "API key must be hexadecimal, 20 or 64 characters long (Customer.io: Settings > "
            "Workspace Settings > API and Webhook Credentials > Tracking API Key).",
            code="invalid_api_key",
        )


def validate_name_list(value: list) -> None:
    """Event names, consent categories, purposes: each non-empty and listed once."""
    if not isinstance(value, list):
        raise ValidationError("Must be a list of names.", code="invalid_names")
    seen: set[str] = set()
    for name in value:
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("Names must be non-empty text.", code="empty_name")
        if name.strip() in seen:
            raise ValidationError(f'"{name.strip()}" is listed twice.', code="duplicate_name")
        seen.add(name.strip())


_SIGNING_KEY = re.compile(r"[\x21-\x7e]{8,200}")


def validate_webhook_signing_key(value: str) -> None:
    # Customer.io shows the key as one word of printable characters; anything else is a paste gone wrong.
    if value and not _SIGNING_KEY.fullmatch(value):
        raise ValidationError(
            "The reporting webhook signing key must be 8 to 200 printable characters without spaces "
            "(Customer.io: Data & Integrations > Integrations > Reporting Webhooks, your webhook's "
            "signing key).",
            code="invalid_webhook_signing_key",
        )

"""Shapes of Customer.io credentials, checked wherever a destination is saved (admin, CLI, import)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

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


def normalize_origin(value: str) -> str:
    """A web origin as browsers send it in the Origin header: scheme://host[:port], lower case, the
    default port left out. Raises ValidationError naming the value when it is not one."""
    text = value.strip()
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
        raise ValidationError(
            f'"{text}" is not a web origin: write it as https://www.example.com (scheme, host, port).',
            code="invalid_origin",
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise ValidationError(
            f'"{text}" is not a web origin: an origin has no path, query or user (https://www.example.com).',
            code="invalid_origin",
        )
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default_port = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, default_port) else "")


def validate_origin_list(value: list) -> None:
    """A source's allowed origins: each a web origin, listed once."""
    if not isinstance(value, list):
        raise ValidationError("Must be a list of origins.", code="invalid_origins")
    seen: set[str] = set()
    for origin in value:
        if not isinstance(origin, str):
            raise ValidationError("Origins must be text.", code="invalid_origin")
        normalized = normalize_origin(origin)
        if normalized in seen:
            raise ValidationError(f'"{normalized}" is listed twice.', code="duplicate_origin")
        seen.add(normalized)

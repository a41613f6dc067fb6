"""The address a login attempt comes from, for django-axes' lockouts (AXES_CLIENT_IP_CALLABLE).

The peer address, or, behind your own proxy (INGESTION_TRUST_X_FORWARDED_FOR), the first address of
X-Forwarded-For: the same rule the ingestion API uses for context.ip, so one setting covers both.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    if settings.INGESTION_TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[0].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR", "")

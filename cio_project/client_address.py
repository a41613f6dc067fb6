"""The address a request comes from: the peer address, or, behind your own proxy
(INGESTION_TRUST_X_FORWARDED_FOR), the first address of X-Forwarded-For. One rule, one setting, for
the ingestion API's context.ip and for django-axes' login lockouts (AXES_CLIENT_IP_CALLABLE).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    return address_of(request.META)


def address_of(meta: dict) -> str:
    if settings.INGESTION_TRUST_X_FORWARDED_FOR:
        forwarded = meta.get("HTTP_X_FORWARDED_FOR", "").split(",")[0].strip()
        if forwarded:
            return forwarded
    return meta.get("REMOTE_ADDR", "")

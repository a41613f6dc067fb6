"""Links from the tools into the delivery log and the destination pages."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from django.urls import reverse


def delivery_url(delivery_id: int) -> str:
    return reverse("admin:delivery_delivery_change", args=[delivery_id])


def destination_url(destination_id: int) -> str:
    return reverse("admin:destinations_destination_change", args=[destination_id])


def log_url(
    destination_id: int,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> str:
    """The delivery log filtered as its list filters would (the standard admin query strings)."""
    query: dict[str, str] = {"destination__id__exact": str(destination_id)}
    if status:
        query["status__exact"] = status
    if since:
        query["created_at__gte"] = since.isoformat()
    if until:
        query["created_at__lt"] = until.isoformat()
    return f"{reverse('admin:delivery_delivery_changelist')}?{urlencode(query)}"


def dashboard_url(destination_id: int) -> str:
    return reverse("admin:destination_dashboard", args=[destination_id])


def person_url(term: str) -> str:
    """A person's page: their timeline across destinations."""
    return f"{reverse('admin:person')}?{urlencode({'q': term})}"

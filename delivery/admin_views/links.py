"""Links from the tools into the model admin pages.

They are built from the admin's URL layout (`<app>/<model>/...`) rather than reversed, because the
tools do not depend on how, or whether yet, a model admin is registered: the delivery log's and the
destinations' admin classes live in their own modules.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from django.db.models import Model
from django.urls import reverse

from delivery.models import Delivery
from destinations.models import Destination


def _model_url(model: type[Model], suffix: str = "") -> str:
    return f"{reverse('admin:index')}{model._meta.app_label}/{model._meta.model_name}/{suffix}"


def delivery_url(delivery_id: int) -> str:
    return _model_url(Delivery, f"{delivery_id}/change/")


def destination_url(destination_id: int) -> str:
    return _model_url(Destination, f"{destination_id}/change/")


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
    return f"{_model_url(Delivery)}?{urlencode(query)}"


def dashboard_url(destination_id: int) -> str:
    return reverse("admin:destination_dashboard", args=[destination_id])

"""Routes of the ingestion API: /v1/<type>, /v1/batch, the same under /v1/import, and /v1/schema."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from delivery.ingestion.validation import SINGLE_ROUTE_TYPES
from delivery.ingestion.views import IngestView


def _routes(prefix: str, historical: bool) -> list:
    kinds = [*SINGLE_ROUTE_TYPES, None]
    return [
        path(
            f"{prefix}{kind or 'batch'}",
            IngestView.as_view(message_type=kind, historical=historical),
            name=f"ingest-{'import-' if historical else ''}{kind or 'batch'}",
        )
        for kind in kinds
    ]


urlpatterns = [
    *_routes("v1/", historical=False),
    *_routes("v1/import/", historical=True),
    # RudderStack's import endpoint takes a batch at /v1/import itself.
    path("v1/import", IngestView.as_view(historical=True), name="ingest-import"),
    path("v1/schema", SpectacularAPIView.as_view(), name="ingest-schema"),
]

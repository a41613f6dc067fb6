"""Routes of the API: /v1/<type>, /v1/batch, the same under /v1/import, analytics.js's short names,
RudderStack's beacon, the settings documents, /v1/schema, and a JSON 404 for anything else there.

Every route answers with and without a trailing slash, since SDKs differ on it (RudderStack's JS SDK
asks for /sourceConfig/, its mobile SDKs for /sourceConfig).
"""

from __future__ import annotations

from django.urls import path, re_path

from delivery.ingestion.validation import SINGLE_ROUTE_TYPES
from delivery.ingestion.views import IngestView, ProjectSettingsView, SchemaView, SourceConfigView, not_found

# analytics.js (Segment's analytics-next, Customer.io's browser SDK) posts to /v1/<first letter>.
SHORT_NAMES = {
    "t": "track",
    "i": "identify",
    "p": "page",
    "s": "screen",
    "g": "group",
    "a": "alias",
    "b": None,
}


def routes(route: str, view: type, name: str, *, documented: bool = True, **options) -> list:
    """The route with and without a trailing slash; only the first is in the OpenAPI document, and
    aliases (analytics.js's short names, the beacon) are in it under their full names only."""
    main = view.as_view(**options) if documented else view.as_view(schema=None, **options)
    return [path(route, main, name=name), path(f"{route}/", view.as_view(schema=None, **options))]


def ingestion_routes(prefix: str, historical: bool) -> list:
    return [
        route
        for kind in [*SINGLE_ROUTE_TYPES, None]
        for route in routes(
            f"{prefix}{kind or 'batch'}",
            IngestView,
            f"ingest-{'import-' if historical else ''}{kind or 'batch'}",
            message_type=kind,
            historical=historical,
        )
    ]


def short_routes() -> list:
    return [
        route
        for short, kind in SHORT_NAMES.items()
        for route in routes(
            f"v1/{short}", IngestView, f"ingest-short-{short}", documented=False, message_type=kind
        )
    ]


urlpatterns = [
    *ingestion_routes("v1/", historical=False),
    *ingestion_routes("v1/import/", historical=True),
    *short_routes(),
    # RudderStack's import endpoint takes a batch at /v1/import itself.
    *routes("v1/import", IngestView, "ingest-import", historical=True),
    # RudderStack's JS SDK with useBeacon: navigator.sendBeacon cannot set headers, so ?writeKey= says who.
    *routes("beacon/v1/batch", IngestView, "ingest-beacon-batch", documented=False),
    *routes("v1/schema", SchemaView, "ingest-schema"),
    *routes("sourceConfig", SourceConfigView, "sdk-source-config", documented=False),
    *routes(
        "v1/projects/<str:write_key>/settings", ProjectSettingsView, "sdk-project-settings", documented=False
    ),
    re_path(r"^(?:v1|beacon|sourceConfig)(?:/(?P<path>.*))?$", not_found, name="api-not-found"),
]

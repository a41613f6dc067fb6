"""The settings documents SDKs fetch before they send: RudderStack's sourceConfig and Segment's project
settings (which Customer.io's Data Pipelines SDKs fetch too).

Browsers and apps read these documents, so they carry only what a web page may see: the write key the
page already holds, this server's address, and each connected destination's device-mode settings.
What goes into a destination's `config` is an allowlist (BROWSER_CONFIG_KEYS), so a setting added to
the destination later stays out until someone decides a browser may see it; never the API key.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from delivery.ingestion.sources import MAX_CACHED_KEYS
from destinations.models import Destination
from destinations.rudderstack_config import to_config

# RudderStack's names for Customer.io, as its dashboard's sourceConfig carries them. The JS SDK finds
# its device-mode integration by `displayName` and knows it only as "Customer IO" (any other spelling:
# 'Integration for destination "..." is not supported'), and matches an event's integrations object
# against it too.
DESTINATION_DEFINITION = {"name": "CUSTOMERIO", "displayName": "Customer IO"}

# The destination settings a browser may see: Customer.io's own web snippet needs the Site ID (it is
# public in every page that loads it), RudderStack's device-mode integration reads the rest.
BROWSER_CONFIG_KEYS = (
    "siteID",
    "datacenter",
    "deviceTokenEventName",
    "useNativeSDK",
    "sendPageNameInSDK",
    "dataUseInApp",
    "autoTrackDeviceAttributes",
    "backgroundQueueMinNumberOfTasks",
    "backgroundQueueSecondsDelay",
    "eventFilteringOption",
    "whitelistedEvents",
    "blacklistedEvents",
    "oneTrustCookieCategories",
    "ketchConsentPurposes",
)
# RudderStack keeps these per platform ({"web": true}); a web source's sourceConfig carries the web value.
WEB_FLAGS = ("useNativeSDK", "sendPageNameInSDK", "dataUseInApp")

SEGMENT_IO = "Segment.io"
CUSTOMERIO_DATA_PIPELINES = "Customer.io Data Pipelines"
CUSTOMERIO_IN_APP = "Customer.io In-App Plugin"


_cache: dict[int, tuple[float, list[Destination]]] = {}
_lock = threading.Lock()


def connected_destinations(source_id: int) -> list[Destination]:
    """The source's enabled destinations, kept for INGESTION_AUTH_CACHE_SECONDS as the source itself is
    (sources.py): every page load asks for its settings, and the query is most of what a document costs.
    Read without the API key, which is never needed here (nor decrypted)."""
    now = time.monotonic()
    cached = _cache.get(source_id)
    if cached is not None and cached[0] > now:
        return cached[1]
    fields = [field.attname for field in Destination._meta.concrete_fields if field.name != "api_key"]
    rows = Destination.objects.filter(sources__id=source_id, enabled=True).order_by("id").values(*fields)
    destinations = [Destination(**row) for row in rows]
    with _lock:
        if len(_cache) >= MAX_CACHED_KEYS:
            _cache.clear()
        _cache[source_id] = (now + settings.INGESTION_AUTH_CACHE_SECONDS, destinations)
    return destinations


def forget_all() -> None:
    with _lock:
        _cache.clear()


def browser_config(destination: Destination) -> dict[str, Any]:
    full = to_config(destination)
    config = {key: full[key] for key in BROWSER_CONFIG_KEYS}
    for key in WEB_FLAGS:
        config[key] = config[key]["web"]
    config["datacenterEU"] = destination.data_center == Destination.DataCenter.EU
    # RudderStack's JS SDK loads a destination in the browser unless it says "cloud".
    config["connectionMode"] = "device" if destination.use_native_sdk else "cloud"
    return config


def source_config(source: Any, destinations: list[Destination]) -> dict[str, Any]:
    """RudderStack's `GET /sourceConfig/` answer for a source (a SourceRef)."""
    return {
        "isHosted": False,
        "source": {
            "id": str(source.id),
            "name": source.name,
            "enabled": source.enabled,
            "workspaceId": "cio-relay",
            "config": {},
            "destinations": [
                {
                    "id": str(destination.id),
                    "name": destination.name,
                    "enabled": destination.enabled,
                    "destinationDefinition": DESTINATION_DEFINITION,
                    "config": browser_config(destination),
                }
                for destination in destinations
            ],
        },
    }


def api_host(public_url: str) -> tuple[str, str]:
    """(protocol, host/path) of this server's /v1, as analytics.js joins them: protocol://apiHost/t."""
    parts = urlsplit(public_url)
    return parts.scheme, f"{parts.netloc}{parts.path.rstrip('/')}/v1"


def project_settings(write_key: str, public_url: str, destinations: list[Destination]) -> dict[str, Any]:
    """Segment's `GET /v1/projects/<writeKey>/settings` answer, which Customer.io's SDKs read too."""
    protocol, host = api_host(public_url)
    delivery = {"apiKey": write_key, "apiHost": host, "protocol": protocol}
    integrations: dict[str, Any] = {SEGMENT_IO: dict(delivery), CUSTOMERIO_DATA_PIPELINES: dict(delivery)}
    in_app = next((item for item in destinations if item.enable_in_app_messages), None)
    if in_app is not None:
        integrations[CUSTOMERIO_IN_APP] = {"siteId": in_app.site_id}
    return {
        "integrations": integrations,
        "plan": {"track": {"__default": {"enabled": True}}, "identify": {"__default": {"enabled": True}}},
        "edgeFunction": {},
        "analyticsNextEnabled": True,
        "middlewareSettings": {},
        "enabledMiddleware": {},
        # This server collects no SDK metrics: a sample rate of 0 keeps the SDKs from sending them.
        "metrics": {"sampleRate": 0},
        "legacyVideoPluginsEnabled": False,
        "remotePlugins": [],
    }

"""How each SDK is pointed at this server: the install line and the init code, with a source's write key.

The init calls follow each SDK's own documentation (RudderStack's SDK docs, Segment's Python library),
with this server in the place of the data plane URL or host.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest


def server_url(request: HttpRequest) -> str:
    """This server's address as SDKs reach it: PUBLIC_URL when set (behind a proxy), else the request's."""
    return (settings.PUBLIC_URL or request.build_absolute_uri("/")).rstrip("/")


@dataclass(frozen=True)
class Snippet:
    slug: str
    title: str
    install: str
    code: str


def snippets(write_key: str, server_url: str) -> list[Snippet]:
    key, url = json.dumps(write_key, ensure_ascii=False), json.dumps(server_url, ensure_ascii=False)
    return [
        Snippet(
            "javascript",
            "JavaScript (RudderStack JS SDK)",
            "npm install @rudderstack/analytics-js",
            f"""import {{ RudderAnalytics }} from "@rudderstack/analytics-js";

const rudderanalytics = new RudderAnalytics();
rudderanalytics.load({key}, {url}, {{
  // This server has no control plane: hand the SDK its source config instead of fetching it.
  getSourceConfig: () => ({{
    source: {{ id: "cio-relay", enabled: true, config: {{}}, destinations: [] }},
  }}),
}});
rudderanalytics.page();""",
        ),
        Snippet(
            "python",
            "Python (RudderStack)",
            "pip install rudder-sdk-python",
            f"""import rudderstack.analytics as rudder_analytics

rudder_analytics.write_key = {key}
rudder_analytics.dataPlaneUrl = {url}""",
        ),
        Snippet(
            "python-segment",
            "Python (Segment)",
            "pip install segment-analytics-python",
            f"""import segment.analytics as analytics

analytics.write_key = {key}
analytics.host = {url}""",
        ),
        Snippet(
            "node",
            "Node (RudderStack)",
            "npm install @rudderstack/rudder-sdk-node",
            f"""const Analytics = require("@rudderstack/rudder-sdk-node");

const client = new Analytics({key}, {{ dataPlaneUrl: {url} }});""",
        ),
        Snippet(
            "ios",
            "iOS (RudderStack)",
            "pod 'Rudder'",
            f"""import Rudder

let config = RSConfig(writeKey: {key})
    .dataPlaneURL({url})
RSClient.sharedInstance().configure(with: config)""",
        ),
        Snippet(
            "android",
            "Android (RudderStack)",
            "implementation 'com.rudderstack.android.sdk:core:1.+'",
            f"""val rudderClient = RudderClient.getInstance(
    this,
    {key},
    RudderConfig.Builder()
        .withDataPlaneUrl({url})
        .build()
)""",
        ),
    ]

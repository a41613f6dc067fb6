"""How each SDK is pointed at this server: the install line and the init code, with a source's write key.

The init calls follow each SDK's own documentation (RudderStack's, Segment's and Customer.io's), with
this server in the place of the data plane URL or host, and of the URL the SDK fetches its settings from
(RudderStack's control plane, Segment's and Customer.io's CDN), which this server serves as well.
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


def host_path(server_url: str) -> str:
    """This server as Customer.io's mobile SDKs take a host: no scheme (they always use https), then /v1."""
    return server_url.split("://", 1)[-1].rstrip("/") + "/v1"


def snippets(write_key: str, server_url: str) -> list[Snippet]:
    """One snippet per SDK: the browser SDKs first (they fetch their settings from this server, so each
    is given its settings URL too), then the server SDKs, then the mobile ones."""
    key, url = json.dumps(write_key, ensure_ascii=False), json.dumps(server_url, ensure_ascii=False)
    host = json.dumps(host_path(server_url), ensure_ascii=False)
    return [
        Snippet(
            "javascript",
            "JavaScript (RudderStack JS SDK)",
            "npm install @rudderstack/analytics-js",
            f"""import {{ RudderAnalytics }} from "@rudderstack/analytics-js";

const rudderanalytics = new RudderAnalytics();
// configUrl: the source config (GET /sourceConfig/) comes from this server too.
rudderanalytics.load({key}, {url}, {{ configUrl: {url} }});
rudderanalytics.page();""",
        ),
        Snippet(
            "javascript-segment",
            "JavaScript (Segment analytics-next)",
            "npm install @segment/analytics-next",
            f"""import {{ AnalyticsBrowser }} from "@segment/analytics-next";

// cdnURL: the project settings (GET /v1/projects/<writeKey>/settings) come from this server, and
// they point the SDK at this server's /v1 for events.
export const analytics = AnalyticsBrowser.load({{ writeKey: {key}, cdnURL: {url} }});
analytics.page();""",
        ),
        Snippet(
            "javascript-customerio",
            "JavaScript (Customer.io Data Pipelines)",
            "npm install @customerio/cdp-analytics-browser",
            f"""import {{ AnalyticsBrowser }} from "@customerio/cdp-analytics-browser";

// cdnURL: the project settings come from this server, and point the SDK at this server's /v1.
export const analytics = AnalyticsBrowser.load({{ writeKey: {key}, cdnURL: {url} }});
analytics.page();""",
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
            "python-customerio",
            "Python (Customer.io Data Pipelines)",
            "pip install customerio-cdp-analytics",
            f"""import customerio.analytics as analytics

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

// controlPlaneURL: the source config (GET /sourceConfig) comes from this server too.
let config = RSConfig(writeKey: {key})
    .dataPlaneURL({url})
    .controlPlaneURL({url})
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
        .withControlPlaneUrl({url})
        .build()
)""",
        ),
        Snippet(
            "ios-customerio",
            "iOS (Customer.io)",
            "pod 'CustomerIO/DataPipelines'",
            f"""import CioDataPipelines

// Hosts without https:// (the SDK adds it): settings and events both come from this server.
let config = SDKConfigBuilder(cdpApiKey: {key})
    .apiHost({host})
    .cdnHost({host})
    .build()
CustomerIO.initialize(withConfig: config)""",
        ),
        Snippet(
            "android-customerio",
            "Android (Customer.io)",
            "implementation 'io.customer.android:datapipelines:4.+'",
            f"""// Hosts without https:// (the SDK adds it): settings and events both come from this server.
CustomerIOBuilder(applicationContext = this, cdpApiKey = {key})
    .apiHost({host})
    .cdnHost({host})
    .build()""",
        ),
    ]

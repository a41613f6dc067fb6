"""The three browser SDKs, unchanged, from a website on another origin, send to the relay.

Given the running system (gunicorn, a Celery worker, a fake Customer.io) and a page on another port
that loads an SDK's own bundle from its npm package, the page gives the SDK only its URL settings and
the write key, then calls identify, track, page, group and alias (and screen where the SDK has it).
Then the fake Customer.io receives the matching Track API requests and every delivery ends delivered.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from delivery.models import Delivery, Event
from destinations.models import Destination, Source
from destinations.snippets import snippets
from tests.browser.conftest import Stack, chromium_path
from tests.browser.sdk_site import require_packages, serve_vendor_chunks, website
from tests.support.factories import API_KEY, make_destination, make_source

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# Each SDK's calls, written as its documentation writes them; every one ends up at Customer.io.
RUDDERSTACK_CALLS = """
  ra.identify("ada", {email: "ada@example.com", plan: "pro"});
  ra.track("Order Completed", {total: 42});
  ra.page("Docs", "Pricing");
  ra.group("acme", {name: "Acme"});
  ra.alias("ada", "visitor-7");
"""
ANALYTICS_JS_CALLS = """
  await analytics.identify("ada", {email: "ada@example.com", plan: "pro"});
  await analytics.track("Order Completed", {total: 42});
  await analytics.page("Docs", "Pricing");
  await analytics.screen("Home");
  await analytics.group("acme", {name: "Acme"});
  await analytics.alias("ada", "visitor-7");
"""


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    require_packages()
    folder = tmp_path / "site"
    folder.mkdir()
    with website(folder) as origin:
        yield origin


@pytest.fixture
def browser(stack: Stack, monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


class Visit:
    """One page of the site in a fresh browser context, with what it asked the relay and logged."""

    def __init__(self, browser, site: str, sdk: str, relay: str) -> None:
        self.context = browser.new_context()
        self.context.set_default_timeout(20_000)
        self.page = self.context.new_page()
        self.relay = relay
        self.to_relay: list[dict] = []
        self.elsewhere: list[str] = []
        self.console: list[str] = []
        self.page.on("console", lambda message: self.console.append(message.text))
        self.page.on("response", self._record)
        self.page.on("requestfailed", lambda request: self.elsewhere.append(f"FAILED {request.url}"))
        self.vendor_chunks = serve_vendor_chunks(self.context, self.page)
        self.page.goto(f"{site}/{sdk}.html")

    def _record(self, response) -> None:
        request = response.request
        if not request.url.startswith(self.relay):
            self.elsewhere.append(request.url)
            return
        self.to_relay.append(
            {
                "method": request.method,
                "url": request.url,
                "path": urlsplit(request.url).path,
                "headers": request.headers,
                "body": request.post_data,
                "status": response.status,
            }
        )

    def wait_for(self, condition, *, timeout: float, message: str):
        """Poll `condition` while the browser runs: Playwright reports requests only while it is called."""
        deadline = time.monotonic() + timeout
        while not (value := condition()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{message} (waited {timeout} s); {self.diagnostics()}")
            self.page.wait_for_timeout(200)
        return value

    def paths(self, method: str = "POST") -> list[str]:
        return [sent["path"] for sent in self.to_relay if sent["method"] == method]

    def close(self) -> None:
        self.context.close()

    def diagnostics(self) -> str:
        return json.dumps(
            {"relay": self.to_relay, "elsewhere": self.elsewhere, "console": self.console[-40:]}, indent=1
        )[-6000:]


@pytest.fixture
def visit(browser, site, stack) -> Iterator:
    opened: list[Visit] = []

    def open_page(sdk: str) -> Visit:
        opened.append(Visit(browser, site, sdk, stack.url))
        return opened[-1]

    yield open_page
    for page in opened:
        page.close()


@pytest.fixture
def source(transactional_db) -> Source:
    return make_source("Website")


@pytest.fixture
def destination(source) -> Destination:
    return make_destination(source, name="Customer.io")


def wait_delivered(count: int, visit: Visit) -> list[Delivery]:
    deliveries = Delivery.objects.select_related("event").order_by("id")

    def finished() -> bool:
        return deliveries.exclude(status__in=Delivery.OPEN).count() >= count

    try:
        visit.wait_for(finished, timeout=90, message=f"{count} deliveries did not finish")
    except AssertionError as error:
        states = [(d.event.type, d.status, d.reason) for d in deliveries.all()]
        raise AssertionError(f"deliveries now: {states}; {error}") from None
    return list(deliveries.all())


def customerio_calls(stack: Stack) -> list[str]:
    return sorted(f"{request.method} {request.path}" for request in stack.fake.requests())


def assert_everything_delivered(
    stack: Stack, deliveries: list[Delivery], types: list[str], visit: Visit
) -> None:
    assert sorted(delivery.event.type for delivery in deliveries) == sorted(types), visit.diagnostics()
    assert {delivery.status for delivery in deliveries} == {"delivered"}, [d.reason for d in deliveries]
    calls = customerio_calls(stack)
    assert "PUT /api/v1/customers/ada" in calls
    events = [r.json for r in stack.fake.requests("/api/v1/customers/ada/events")]
    assert {"name": "Order Completed", "data": {"total": 42}} in [
        {"name": event["name"], "data": {"total": event["data"].get("total")}} for event in events
    ]
    assert any(event.get("type") == "page" and event["name"] == "Pricing" for event in events)
    assert "POST /api/v1/merge_customers" in calls


def pasted(slug: str, write_key: str, relay: str) -> str:
    """The admin's snippet for this SDK, as a page would run it: its `import` is the bundle's global here
    (the page loads the package's browser bundle with a script tag), everything else as pasted."""
    code = next(item.code for item in snippets(write_key, relay) if item.slug == slug)
    code = code.replace(
        'import { RudderAnalytics } from "@rudderstack/analytics-js";',
        "const { RudderAnalytics } = window.rudderanalytics;",
    )
    code = re.sub(
        r'import \{ AnalyticsBrowser \} from "[^"]+";',
        "const { AnalyticsBrowser } = window.AnalyticsNext;",
        code,
    )
    code = code.replace("export const analytics", "const analytics")
    assert "import " not in code and "export " not in code, code
    handle = "rudderanalytics" if "RudderAnalytics" in code else "analytics"
    return f"() => {{ {code}\nwindow.sdk = {handle}; }}"


def test_rudderstack_js_sends_from_another_origin(stack, visit, source, destination):
    # Given a page that loads @rudderstack/analytics-js and runs the admin's snippet (only the write key,
    # the data plane URL and configUrl given), which tracks a page view
    page = visit("rudderstack")
    page.page.evaluate(pasted("javascript", source.write_key, stack.url))
    # When it has loaded (fetching /sourceConfig/ from the relay) and makes each call
    page.page.evaluate("() => new Promise((resolve) => window.sdk.ready(resolve))")
    page.page.evaluate(f"() => {{ const ra = window.sdk; {RUDDERSTACK_CALLS} }}")
    deliveries = wait_delivered(6, page)
    # Then it asked the relay for its config with the key, and sent each event with Basic auth (so
    # every one was preflighted), answered 200
    config_request = next(sent for sent in page.to_relay if sent["path"] == "/sourceConfig/")
    assert parse_qs(urlsplit(config_request["url"]).query)["writeKey"] == [source.write_key]
    assert config_request["status"] == 200
    sent = [item for item in page.to_relay if item["method"] == "POST"]
    assert sorted(item["path"] for item in sent) == sorted(f"/v1/{kind}" for kind in RUDDERSTACK_TYPES)
    expected_auth = "Basic " + base64.b64encode(f"{source.write_key}:".encode()).decode()
    assert {item["headers"]["authorization"] for item in sent} == {expected_auth}
    assert {item["status"] for item in sent} == {200}
    # And Customer.io received each of them, and the log shows them delivered
    assert_everything_delivered(stack, deliveries, RUDDERSTACK_TYPES, page)


LOAD_RUDDERSTACK = """([key, relay, options]) => new Promise((resolve) => {
  const ra = new rudderanalytics.RudderAnalytics();
  window.ra = ra;
  ra.load(key, relay, {configUrl: relay, polyfillIfRequired: false, ...options, onLoaded: () => resolve()});
})"""
# Each list starts with the page view the snippet itself tracks.
RUDDERSTACK_TYPES = ["page", "identify", "track", "page", "group", "alias"]
ANALYTICS_JS_TYPES = ["page", "identify", "track", "page", "screen", "group", "alias"]
ANALYTICS_NEXT_SNIPPETS = {"segment": "javascript-segment", "customerio": "javascript-customerio"}


@pytest.mark.parametrize("sdk", ["segment", "customerio"])
def test_analytics_next_sdks_send_from_another_origin(stack, visit, source, destination, sdk):
    # Given a page that loads @segment/analytics-next or @customerio/cdp-analytics-browser and runs the
    # admin's snippet (only the write key and cdnURL given), which tracks a page view
    page = visit(sdk)
    page.page.evaluate(pasted(ANALYTICS_NEXT_SNIPPETS[sdk], source.write_key, stack.url))
    # When it loads (fetching the project settings from the relay) and makes each call
    page.page.evaluate(f"async () => {{ const analytics = window.sdk; {ANALYTICS_JS_CALLS} }}")
    deliveries = wait_delivered(7, page)
    # Then the settings came from the relay, and each call went to its short route, as text/plain
    # with the write key in the body (so no preflight), answered 200
    assert f"/v1/projects/{source.write_key}/settings" in page.paths("GET")
    assert sorted(page.paths()) == sorted(["/v1/p", "/v1/i", "/v1/t", "/v1/p", "/v1/s", "/v1/g", "/v1/a"])
    sent = [item for item in page.to_relay if item["method"] == "POST"]
    assert {item["headers"]["content-type"] for item in sent} == {"text/plain"}
    assert {json.loads(item["body"])["writeKey"] for item in sent} == {source.write_key}
    assert {item["status"] for item in sent} == {200}
    # And the chunks the bundle fetched from its vendor's CDN came from its own package
    assert any("ajs-destination" in url for url in page.vendor_chunks)
    # And Customer.io received each call, and the log shows them delivered
    assert_everything_delivered(stack, deliveries, ANALYTICS_JS_TYPES, page)


def test_rudderstack_js_beacon_mode_sends_when_the_page_is_left(stack, visit, site, source, destination):
    # Given RudderStack's SDK in beacon mode, which queues events and sends them with navigator.sendBeacon
    page = visit("rudderstack")
    page.page.evaluate(LOAD_RUDDERSTACK, [source.write_key, stack.url, {"useBeacon": True}])
    page.page.evaluate("""() => { window.ra.identify("ada", {email: "ada@example.com"});
                                  window.ra.track("Order Completed", {total: 42}); }""")
    # When the visitor leaves the page (the queue is flushed as a beacon)
    page.page.goto(f"{site}/segment.html")
    deliveries = wait_delivered(2, page)
    # Then both arrived as one batch (POST /beacon/v1/batch?writeKey=...: a beacon carries no header),
    # none through the XHR routes, and both were delivered
    assert page.paths() == []
    assert '"POST /beacon/v1/batch HTTP/1.1" 200' in stack.web.log()
    assert len({delivery.event.received_at for delivery in deliveries}) == 1
    assert sorted(delivery.event.type for delivery in deliveries) == ["identify", "track"]
    assert {delivery.status for delivery in deliveries} == {"delivered"}
    assert "PUT /api/v1/customers/ada" in customerio_calls(stack)


def test_an_origin_off_the_source_list_is_refused(stack, visit, site, source, destination):
    # Given a source that takes browser events from its own website only
    Source.objects.filter(pk=source.pk).update(allowed_origins=["https://www.example.com"])
    # When pages on this other origin load RudderStack's and Customer.io's SDKs with its key
    rudderstack = visit("rudderstack")
    rudderstack.page.evaluate(
        """([key, relay]) => new Promise((resolve) => {
          const ra = new rudderanalytics.RudderAnalytics();
          ra.load(key, relay, {configUrl: relay, polyfillIfRequired: false, onLoaded: () => resolve()});
          ra.track("Order Completed");
          setTimeout(resolve, 3000);
        })""",
        [source.write_key, stack.url],
    )
    customerio = visit("customerio")
    customerio.page.evaluate(
        """async ([key, relay]) => {
          try { await AnalyticsNext.AnalyticsBrowser.load({writeKey: key, cdnURL: relay}); } catch (e) {}
        }""",
        [source.write_key, stack.url],
    )
    # And the page itself posts an event with the key, as a hand-written integration would
    answer = rudderstack.page.evaluate(
        """async ([key, relay]) => {
          const response = await fetch(relay + "/v1/track", {method: "POST",
            headers: {"Content-Type": "application/json", "Authorization": "Basic " + btoa(key + ":")},
            body: JSON.stringify({userId: "ada", event: "Order Completed"})});
          return [response.status, await response.json()];
        }""",
        [source.write_key, stack.url],
    )
    # Then the settings documents and the event are refused with 403, readable by the page, and
    # nothing is stored
    statuses = {item["path"]: item["status"] for item in rudderstack.to_relay + customerio.to_relay}
    assert statuses["/sourceConfig/"] == 403
    assert statuses[f"/v1/projects/{source.write_key}/settings"] == 403
    assert answer[0] == 403 and answer[1]["code"] == "origin_not_allowed"
    assert site in answer[1]["error"]
    assert Event.objects.count() == 0


def test_a_disabled_source_sends_nothing(stack, visit, source, destination):
    # Given a disabled source
    Source.objects.filter(pk=source.pk).update(enabled=False)
    # When RudderStack's SDK loads with its key and tracks
    page = visit("rudderstack")
    page.page.evaluate(
        """([key, relay]) => new Promise((resolve) => {
          const ra = new rudderanalytics.RudderAnalytics();
          ra.load(key, relay, {configUrl: relay, polyfillIfRequired: false});
          ra.track("Order Completed");
          setTimeout(resolve, 3000);
        })""",
        [source.write_key, stack.url],
    )
    # And Segment's does
    segment = visit("segment")
    segment.page.evaluate(
        """async ([key, relay]) => {
          try { await AnalyticsNext.AnalyticsBrowser.load({writeKey: key, cdnURL: relay}); } catch (e) {}
        }""",
        [source.write_key, stack.url],
    )
    # Then RudderStack's got its config saying the source is disabled, and obeyed it; Segment's was told
    # the project is not there (404), as Segment's CDN answers; nothing was sent or stored
    statuses = {item["path"]: item["status"] for item in page.to_relay + segment.to_relay}
    assert statuses == {"/sourceConfig/": 200, f"/v1/projects/{source.write_key}/settings": 404}
    assert any("The source is disabled" in line for line in page.console), page.diagnostics()
    assert Event.objects.count() == 0


def test_rudderstack_js_loads_customerio_in_device_mode(stack, visit, source, destination):
    # Given a destination whose web SDK setting is device mode (the native Customer.io SDK)
    Destination.objects.filter(pk=destination.pk).update(use_native_sdk=True, site_id="site4web")
    # When RudderStack's SDK loads with the source's key
    page = visit("rudderstack")
    page.page.evaluate(LOAD_RUDDERSTACK, [source.write_key, stack.url, {}])
    # Then the relay's sourceConfig told it to, and it asks its CDN for its Customer.io integration
    # (which cannot load here, offline), with the device-mode settings and no API key in the config
    page.wait_for(
        lambda: any("CustomerIO.min.js" in url for url in page.elsewhere),
        timeout=15,
        message="the SDK did not ask for its Customer.io integration",
    )
    integration = next(url for url in page.elsewhere if "CustomerIO.min.js" in url)
    assert urlsplit(integration.removeprefix("FAILED ")).path.endswith(
        "/modern/js-integrations/CustomerIO.min.js"
    )
    assert urlsplit(integration.removeprefix("FAILED ")).hostname == "cdn.rudderlabs.com"
    assert next(item["status"] for item in page.to_relay if item["path"] == "/sourceConfig/") == 200
    document = requests.get(f"{stack.url}/sourceConfig/", auth=(source.write_key, ""), timeout=10).json()
    (customerio,) = document["source"]["destinations"]
    assert customerio["config"]["useNativeSDK"] is True and customerio["config"]["siteID"] == "site4web"
    assert API_KEY not in json.dumps(document)

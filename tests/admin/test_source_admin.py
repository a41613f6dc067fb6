"""The source pages of the admin: the write key (masked in pages, copied on request), rotating it, the
destinations a source feeds, and the SDK snippets with this server's URL."""

from __future__ import annotations

import base64
import html

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse

from destinations.models import Source
from tests.admin import config_fixtures
from tests.admin.config_fixtures import admin_url, page
from tests.support.factories import make_destination, make_source

pytestmark = pytest.mark.django_db

# Fixtures the tests below take by name.
debug_logs = config_fixtures.debug_logs
viewer = config_fixtures.viewer

LIST_URL = reverse("admin:destinations_source_changelist")
SERVER_URL = "http://testserver"
# What each SDK's init looks like, as its documentation writes it.
SDK_CALLS = {
    "javascript": "rudderanalytics.load(",
    "javascript-segment": 'from "@segment/analytics-next"',
    "javascript-customerio": 'from "@customerio/cdp-analytics-browser"',
    "python": "rudder_analytics.dataPlaneUrl = ",
    "python-segment": "analytics.host = ",
    "python-customerio": "import customerio.analytics",
    "node": 'require("@rudderstack/rudder-sdk-node")',
    "ios": "RSConfig(writeKey: ",
    "android": "RudderClient.getInstance(",
    "ios-customerio": "SDKConfigBuilder(cdpApiKey: ",
    "android-customerio": "CustomerIOBuilder(",
}


def masked(source: Source) -> str:
    return f"{source.write_key[:4]}…{source.write_key[-4:]}"


def reveal(client: Client, source: Source) -> dict:
    response = client.post(admin_url(source, "write_key"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    return response.json()


def test_the_list_shows_each_source_with_its_key_masked_and_what_it_feeds(admin_client):
    # Given a source feeding two destinations, and one feeding none
    web = make_source("web")
    make_destination(web, name="Customer.io EU")
    make_destination(web, name="Customer.io US")
    idle = make_source("idle", enabled=False)
    # When an admin opens the list
    response = admin_client.get(LIST_URL)
    text = html.unescape(page(response))
    # Then each row has the masked key with a Copy button, and the destinations as links
    assert f"<code>{masked(web)}</code>" in text and f"<code>{masked(idle)}</code>" in text
    assert f'data-reveal-url="{admin_url(web, "write_key")}" data-copy="write_key"' in text
    # each Copy button named after its source, so a screen reader tells them apart
    assert 'aria-label="Copy write key of web"' in text and 'aria-label="Copy write key of idle"' in text
    assert ">Customer.io EU</a>, <a" in text and ">Customer.io US</a>" in text
    # But never a full write key
    assert web.write_key not in text and idle.write_key not in text


def test_the_list_does_not_query_per_row(admin_client, django_assert_max_num_queries):
    for number in range(8):
        source = make_source(f"source {number}")
        make_destination(source)
        make_destination(source)
    with django_assert_max_num_queries(10):
        response = admin_client.get(LIST_URL)
    assert page(response).count('class="action-select"') == 8


def test_the_change_page_shows_the_key_masked_with_its_buttons_links_and_snippets(admin_client, debug_logs):
    # Given a source feeding a destination
    source = make_source("web")
    destination = make_destination(source, name="Customer.io")
    # When an admin opens the source
    text = html.unescape(page(admin_client.get(admin_url(source, "change"))))
    # Then the key is shown masked, with Copy, Show and Rotate, each named for what it does
    assert f"<code data-write-key>{masked(source)}</code>" in text
    assert 'data-copy="write_key">Copy write key</button>' in text
    assert "data-show>Show write key</button>" in text
    assert f'href="{admin_url(source, "rotate_write_key")}">Rotate write key…</a>' in text
    # And the destinations it feeds, as links
    assert f'<a href="{admin_url(destination, "change")}">Customer.io</a>' in text
    # And a snippet per SDK with this server's URL (the key masked until asked for)
    assert "SDK snippets" in text
    for slug, call in SDK_CALLS.items():
        assert f'<pre data-snippet="{slug}">' in text and call in text
        assert f'data-copy="{slug}" aria-label="Copy the ' in text
    assert f'"{SERVER_URL}"' in text and f'"{masked(source)}"' in text
    # And the page holds the key nowhere, and nothing logged it
    assert source.write_key not in text
    assert source.write_key not in debug_logs.text


def test_copy_fetches_the_key_and_the_snippets_that_hold_it(admin_client, debug_logs):
    # Given a source
    source = make_source("web")
    # When an admin presses Copy (the page posts to the write key URL)
    answer = reveal(admin_client, source)
    # Then the answer holds the full key, and every snippet holds it and this server's URL
    assert answer["write_key"] == source.write_key
    assert set(answer["snippets"]) == set(SDK_CALLS)
    for slug, code in answer["snippets"].items():
        # Customer.io's mobile SDKs take the host without its scheme
        server = '"testserver/v1"' if slug in ("ios-customerio", "android-customerio") else f'"{SERVER_URL}"'
        assert f'"{source.write_key}"' in code and server in code, slug
        assert SDK_CALLS[slug] in code
    # And the logs say it was shown, without the key
    assert "write key of source" in debug_logs.text
    assert source.write_key not in debug_logs.text


def test_the_snippets_follow_each_sdks_init(admin_client):
    source = make_source("web")
    snippets = reveal(admin_client, source)["snippets"]
    key, url = f'"{source.write_key}"', f'"{SERVER_URL}"'
    assert f"rudderanalytics.load({key}, {url}, {{ configUrl: {url} }});" in snippets["javascript"]
    for slug in ("javascript-segment", "javascript-customerio"):
        assert f"AnalyticsBrowser.load({{ writeKey: {key}, cdnURL: {url} }});" in snippets[slug]
    assert f"rudder_analytics.write_key = {key}\nrudder_analytics.dataPlaneUrl = {url}" in snippets["python"]
    assert f"analytics.write_key = {key}\nanalytics.host = {url}" in snippets["python-segment"]
    assert f"new Analytics({key}, {{ dataPlaneUrl: {url} }})" in snippets["node"]
    assert (
        f"RSConfig(writeKey: {key})\n    .dataPlaneURL({url})\n    .controlPlaneURL({url})" in snippets["ios"]
    )
    builder = f"RudderConfig.Builder()\n        .withDataPlaneUrl({url})\n        .withControlPlaneUrl({url})"
    assert f"    {key},\n    {builder}" in snippets["android"]
    for slug in ("ios-customerio", "android-customerio"):
        assert '.apiHost("testserver/v1")\n    .cdnHost("testserver/v1")' in snippets[slug]


def test_a_public_url_setting_names_the_server_in_the_snippets(admin_client, settings):
    # Given the server is reached through a proxy at another address
    settings.PUBLIC_URL = "https://relay.example.com/"
    source = make_source("web")
    # Then the snippets name that address
    text = html.unescape(page(admin_client.get(admin_url(source, "change"))))
    assert '"https://relay.example.com"' in text and SERVER_URL not in text
    for slug, code in reveal(admin_client, source)["snippets"].items():
        address = (
            '"relay.example.com/v1"'
            if slug.endswith("-customerio") and "Host(" in code
            else '"https://relay.example.com"'
        )
        assert address in code, slug


def test_the_key_is_only_given_to_a_post_with_its_csrf_token(admin_user):
    source = make_source("web")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    url = admin_url(source, "write_key")
    # A link, a prefetcher or a cross-site form gets nothing
    assert browser.get(url).status_code == 405
    assert browser.post(url).status_code == 403
    # The page's own script, with the token, gets the key
    browser.get(admin_url(source, "change"))
    answer = browser.post(url, HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value)
    assert answer.status_code == 200 and answer.json()["write_key"] == source.write_key


def test_a_viewer_sees_the_masked_key_but_cannot_fetch_or_rotate_it(viewer):
    source = make_source("web")
    key = source.write_key
    assert key not in page(viewer.get(admin_url(source, "change")))
    assert viewer.post(admin_url(source, "write_key")).status_code == 403
    assert viewer.post(admin_url(source, "rotate_write_key")).status_code == 403
    source.refresh_from_db()
    assert source.write_key == key


def test_rotating_asks_first_then_replaces_the_key(admin_client, client, debug_logs):
    # Given a source whose key SDKs use
    source = make_source("web")
    old_key = source.write_key
    # When an admin follows Rotate write key
    confirm = admin_client.get(admin_url(source, "rotate_write_key"))
    # Then they are asked first, and nothing has changed yet
    text = html.unescape(page(confirm))
    assert "Give the source “web” a new write key?" in text and masked(source) in text
    assert 'value="Yes, rotate the write key"' in text and old_key not in text
    source.refresh_from_db()
    assert source.write_key == old_key
    # When they confirm
    done = admin_client.post(admin_url(source, "rotate_write_key"), follow=True)
    # Then the source has a new key, they are told so, and the history says it changed
    source.refresh_from_db()
    assert source.write_key != old_key
    assert done.redirect_chain[-1][0] == admin_url(source, "change")
    (message,) = [str(message) for message in done.context["messages"]]
    assert message.startswith("The write key of “web” was rotated.")
    assert LogEntry.objects.get(object_id=str(source.pk)).get_change_message() == "Changed write key."
    # And SDKs must use the new key: the old one is refused by the ingestion API
    event = {"userId": "ann", "event": "Signed Up"}
    assert ingest(client, old_key, event).status_code == 401
    assert ingest(client, source.write_key, event).status_code == 200
    assert old_key not in debug_logs.text and source.write_key not in debug_logs.text


def ingest(client: Client, write_key: str, event: dict):
    credentials = base64.b64encode(f"{write_key}:".encode()).decode()
    return client.post(
        "/v1/track", event, content_type="application/json", HTTP_AUTHORIZATION=f"Basic {credentials}"
    )


def test_rotating_a_missing_source_says_so(admin_client):
    response = admin_client.post(
        reverse("admin:destinations_source_rotate_write_key", args=[999999]), follow=True
    )
    assert response.status_code == 200
    (message,) = [str(message) for message in response.context["messages"]]
    assert "with ID “999999” doesn\N{RIGHT SINGLE QUOTATION MARK}t exist" in message


def test_adding_a_source_leads_to_its_key_and_snippets(admin_client):
    # When an admin adds a source with just a name
    response = admin_client.post(reverse("admin:destinations_source_add"), {"name": "web", "enabled": "on"})
    # Then it gets a write key, and they land on its page, where the key and snippets are
    source = Source.objects.get(name="web")
    assert len(source.write_key) >= 32
    assert response.status_code == 302 and response["Location"] == admin_url(source, "change")


def test_no_source_page_holds_the_write_key(admin_client, debug_logs):
    source = make_source("web")
    make_destination(source)
    urls = [LIST_URL, reverse("admin:destinations_source_add")]
    urls += [admin_url(source, view) for view in ("change", "history", "delete", "rotate_write_key")]
    for url in urls:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert source.write_key not in page(response), url
    assert source.write_key not in debug_logs.text


def test_allowed_origins_are_edited_one_per_line_and_kept_as_browsers_send_them(admin_client):
    # Given a source
    source = make_source("web")
    # When an admin lists the sites that may send its events, as people write them
    response = admin_client.post(
        admin_url(source, "change"),
        {
            "name": "web",
            "enabled": "on",
            "allowed_origins": "https://WWW.Example.com/\n\nhttp://localhost:8080\n",
        },
    )
    # Then they are kept as the Origin header says them, and the form shows them one per line
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.allowed_origins == ["https://www.example.com", "http://localhost:8080"]
    text = html.unescape(page(admin_client.get(admin_url(source, "change"))))
    assert "https://www.example.com\nhttp://localhost:8080" in text
    assert "Leave empty to accept every origin" in text


@pytest.mark.parametrize(
    ("origins", "message"),
    [
        ("www.example.com", '"www.example.com" is not a web origin'),
        ("https://www.example.com/shop", "an origin has no path"),
        ("https://a.example.com\nhttps://A.example.com", '"https://a.example.com" is listed twice'),
    ],
)
def test_a_wrong_origin_is_refused_naming_it(admin_client, origins, message):
    source = make_source("web")
    response = admin_client.post(
        admin_url(source, "change"), {"name": "web", "enabled": "on", "allowed_origins": origins}
    )
    assert response.status_code == 200
    assert message in html.unescape(page(response))
    source.refresh_from_db()
    assert source.allowed_origins == []

"""The settings documents SDKs fetch before sending: RudderStack's /sourceConfig/ and Segment's
/v1/projects/<writeKey>/settings, with what they hold, how they are cached, and what they never hold."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta

import pytest

from delivery.models import Event
from destinations.models import Destination
from tests.ingestion.conftest import basic_auth
from tests.support.factories import API_KEY, SITE_ID, make_destination, secret_forms

pytestmark = pytest.mark.django_db


def source_config(client, write_key: str, path: str = "/sourceConfig/", **headers):
    return client.get(f"{path}?p=npm&v=3.34.1&writeKey={write_key}", **headers)


def project_settings(client, write_key: str, **headers):
    return client.get(f"/v1/projects/{write_key}/settings", **headers)


def test_source_config_is_rudderstacks_shape_with_the_connected_enabled_destinations(
    client, source, destination
):
    # Given a source feeding one enabled destination, and a disabled and an unconnected one
    make_destination(source, name="Paused", enabled=False)
    make_destination(name="Elsewhere")
    # When RudderStack's JS SDK asks for its config with the key in the query
    response = source_config(client, source.write_key)
    # Then it gets RudderStack's document: the source, and the one destination it delivers to
    assert response.status_code == 200
    document = response.json()["source"]
    assert (document["id"], document["name"], document["enabled"]) == (str(source.id), "Web app", True)
    assert document["config"] == {} and document["workspaceId"]
    (customerio,) = document["destinations"]
    assert customerio["id"] == str(destination.id) and customerio["name"] == "Customer.io production"
    assert customerio["enabled"] is True
    assert customerio["destinationDefinition"] == {"name": "CUSTOMERIO", "displayName": "Customer IO"}
    assert customerio["config"] == {
        "siteID": SITE_ID,
        "datacenter": "US",
        "datacenterEU": False,
        "deviceTokenEventName": "",
        "connectionMode": "cloud",
        "useNativeSDK": False,
        "sendPageNameInSDK": True,
        "dataUseInApp": False,
        "autoTrackDeviceAttributes": {"android": True, "ios": True},
        "backgroundQueueMinNumberOfTasks": {"android": 10},
        "backgroundQueueSecondsDelay": {"android": 30},
        "eventFilteringOption": "disable",
        "whitelistedEvents": [],
        "blacklistedEvents": [],
        "oneTrustCookieCategories": [],
        "ketchConsentPurposes": [],
    }


def test_source_config_carries_the_device_mode_settings(client, source, destination):
    Destination.objects.filter(pk=destination.pk).update(
        use_native_sdk=True,
        enable_in_app_messages=True,
        send_page_name_in_sdk=False,
        data_center="EU",
        event_filtering="blacklistedEvents",
        denylisted_events=["Secret Event"],
        onetrust_cookie_categories=["C0004"],
        ketch_consent_purposes=["analytics"],
    )
    config = source_config(client, source.write_key).json()["source"]["destinations"][0]["config"]
    assert config["connectionMode"] == "device" and config["useNativeSDK"] is True
    assert (config["dataUseInApp"], config["sendPageNameInSDK"]) == (True, False)
    assert (config["datacenter"], config["datacenterEU"]) == ("EU", True)
    assert config["blacklistedEvents"] == [{"eventName": "Secret Event"}]
    assert config["oneTrustCookieCategories"] == [{"oneTrustCookieCategory": "C0004"}]
    assert config["ketchConsentPurposes"] == [{"purpose": "analytics"}]


@pytest.mark.parametrize("path", ["/sourceConfig", "/sourceConfig/"])
def test_source_config_takes_the_key_as_basic_auth_with_or_without_the_slash(
    client, source, destination, path
):
    response = client.get(path, HTTP_AUTHORIZATION=basic_auth(source.write_key))
    assert response.status_code == 200
    assert response.json()["source"]["id"] == str(source.id)


def test_an_unknown_key_gets_401_for_source_config_and_404_for_project_settings(client, source):
    refused = source_config(client, "not-a-key")
    assert refused.status_code == 401 and refused.json()["error"] == "invalid write key"
    assert source_config(client, "").status_code == 401
    missing = project_settings(client, "not-a-key")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_a_disabled_source_is_answered_as_rudderstack_and_segment_answer_it(client, source, destination):
    # Given a disabled source
    source.enabled = False
    source.save()
    # Then RudderStack's SDKs are told it is disabled (they then send nothing), with no destinations
    document = source_config(client, source.write_key).json()["source"]
    assert (document["enabled"], document["destinations"]) == (False, [])
    # And Segment's and Customer.io's find no project there
    answer = project_settings(client, source.write_key)
    assert answer.status_code == 404 and answer.json()["code"] == "source_disabled"


def test_project_settings_point_segment_and_customerio_at_this_server(client, source, destination, settings):
    # Given the server's public address
    settings.PUBLIC_URL = "https://relay.example.com"
    # When analytics.js asks for its project's settings
    response = project_settings(client, source.write_key)
    # Then both delivery plugins send here, with the write key the page already has
    assert response.status_code == 200
    integrations = response.json()["integrations"]
    expected = {"apiKey": source.write_key, "apiHost": "relay.example.com/v1", "protocol": "https"}
    assert integrations["Segment.io"] == expected
    assert integrations["Customer.io Data Pipelines"] == expected
    assert "Customer.io In-App Plugin" not in integrations


def test_project_settings_use_the_requests_address_without_public_url(client, source, destination, settings):
    settings.PUBLIC_URL = ""
    integrations = project_settings(client, source.write_key, HTTP_HOST="localhost").json()["integrations"]
    assert integrations["Segment.io"]["apiHost"] == "localhost/v1"
    assert integrations["Segment.io"]["protocol"] == "http"


def test_project_settings_name_the_in_app_site_when_a_destination_has_in_app_on(client, source, destination):
    Destination.objects.filter(pk=destination.pk).update(enable_in_app_messages=True)
    integrations = project_settings(client, source.write_key).json()["integrations"]
    assert integrations["Customer.io In-App Plugin"] == {"siteId": SITE_ID}


@pytest.mark.parametrize("fetch", [source_config, project_settings])
def test_documents_are_cached_briefly_and_revalidate_with_an_etag(
    client, source, destination, fetch, settings
):
    settings.INGESTION_AUTH_CACHE_SECONDS = 0  # this server's own few seconds of caching, out of the way
    first = fetch(client, source.write_key)
    assert first["Cache-Control"] == "private, max-age=60"
    assert first["ETag"].startswith('"')
    again = fetch(client, source.write_key, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    # If-None-Match as browsers and proxies may send it: a list, a weak tag, or any tag at all
    for header in (f'"other", {first["ETag"]}', f"W/{first['ETag']}", "*"):
        revalidated = fetch(client, source.write_key, HTTP_IF_NONE_MATCH=header)
        assert revalidated.status_code == 304, header
        assert revalidated["ETag"] == first["ETag"] and revalidated["Cache-Control"] == "private, max-age=60"
    # A changed destination is a new document, with a new ETag
    Destination.objects.filter(pk=destination.pk).update(enable_in_app_messages=True)
    changed = fetch(client, source.write_key, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


def test_rudderstacks_ad_block_check_gets_a_head_answered_as_the_get(client, source, destination):
    # Given RudderStack's JS SDK loaded with sendAdblockPage: it sends HEAD <sourceConfig path>?view=ad
    # with its Basic auth, and takes any failure for an ad blocker (then tracks an extra page view)
    # (@rudderstack/analytics-js, detectAdBlockers in its bundle under tests/node_modules)
    head = client.head("/sourceConfig/?view=ad", HTTP_AUTHORIZATION=basic_auth(source.write_key))
    # Then it gets what a GET gets, without the body
    get = client.get("/sourceConfig/?view=ad", HTTP_AUTHORIZATION=basic_auth(source.write_key))
    assert head.status_code == 200 and head.content == b""
    assert head["ETag"] == get["ETag"] and head["Content-Type"] == "application/json"
    # And the project settings take HEAD too, while an unknown key stays refused
    assert client.head(f"/v1/projects/{source.write_key}/settings").status_code == 200
    assert client.head("/sourceConfig/?view=ad", HTTP_AUTHORIZATION=basic_auth("wrong")).status_code == 401


# A second Track API key and a reporting webhook signing key: secrets a document must not hold either.
OTHER_API_KEY = "ab" * 32
SIGNING_KEY = "whsec-Signing-Key-0123456789"


def every_setting_changed() -> list[tuple[str, object]]:
    """One non-default value for every setting a destination has (each test sets one of them); a
    setting added to the model fails the check below until it is listed here."""
    values: dict[str, object] = {
        "name": "Customer.io renamed",
        "site_id": "othersite42",
        "api_key": OTHER_API_KEY,
        "webhook_signing_key": SIGNING_KEY,
        "data_center": "EU",
        "device_token_event_name": "Device Token Set",
        "event_filtering": "whitelistedEvents",
        "api_version": "v2",
        "rate_limit_per_second": 7,
        "retry_horizon": timedelta(hours=1),
        "allowlisted_events": ["Order Completed"],
        "denylisted_events": ["Secret"],
        "onetrust_cookie_categories": ["C0004"],
        "ketch_consent_purposes": ["analytics"],
        "android_background_queue_min_tasks": 3,
        "android_background_queue_delay_seconds": 9,
    }
    fields = [
        field for field in Destination._meta.concrete_fields if field.editable and not field.primary_key
    ]
    for field in fields:
        if field.get_internal_type() == "BooleanField":
            values[field.name] = not field.get_default()
    assert set(values) == {field.name for field in fields}, "list a value for each new setting"
    return sorted(values.items())


@pytest.mark.parametrize(("field", "value"), every_setting_changed(), ids=lambda item: str(item))
def test_no_document_ever_holds_the_api_key(client, source, destination, settings, field, value):
    # Given a destination with this one setting changed (and in-app on, so every section is filled),
    # saved as the admin saves it (encrypting its secrets)
    Destination.objects.filter(pk=destination.pk).update(enable_in_app_messages=True, use_native_sdk=True)
    changed = Destination.objects.get(pk=destination.pk)
    setattr(changed, field, value)
    changed.save()
    secrets = {*secret_forms(), *secret_forms(changed.site_id, changed.api_key), SIGNING_KEY}
    settings.PUBLIC_URL = "https://relay.example.com"
    # When every document is fetched in every way an SDK asks for it
    documents = [
        source_config(client, source.write_key),
        client.get("/sourceConfig", HTTP_AUTHORIZATION=basic_auth(source.write_key)),
        project_settings(client, source.write_key),
        client.get(f"/v1/projects/{source.write_key}/settings/"),
    ]
    # Then none holds the API key in any form
    for response in documents:
        assert response.status_code == 200
        text = response.content.decode()
        assert text.startswith("{")
        for secret in secrets:
            assert secret not in text
        assert "apiKey" not in json.dumps(json.loads(text).get("source", {}))
    assert Destination.objects.get(pk=destination.pk).api_key == (
        OTHER_API_KEY if field == "api_key" else API_KEY
    )


# --- Mobile SDKs: their settings requests as their source code makes them --------------------------


@pytest.mark.parametrize(
    ("version", "headers"),
    [
        # rudderlabs/rudder-sdk-ios v1, Sources/Classes/RSNetworkManager.m: GET <controlPlaneUrl>/ +
        # "sourceConfig?p=ios&v=<version>" (no slash before the query), `Authorization: Basic <key:>`.
        ("1.31.1", {}),
        # Its Swift rewrite (v2, whose RSConfig(writeKey:).controlPlaneURL(...) the admin's snippet
        # uses), the `API` enum's downloadSourceConfig: the same path and auth, and
        # `Content-Type: Application/json` on the GET.
        ("2.5.0", {"CONTENT_TYPE": "Application/json"}),
    ],
)
def test_rudderstack_ios_sdk_config_request(client, source, destination, version, headers):
    # Both: a 404 is "resource not found", and a failure whose body contains "invalid write key" is a
    # wrong key (which stops the SDK asking again).
    path = f"/sourceConfig?p=ios&v={version}"
    response = client.get(path, HTTP_AUTHORIZATION=basic_auth(source.write_key), **headers)
    assert response.status_code == 200
    assert response.json()["source"]["destinations"][0]["destinationDefinition"]["name"] == "CUSTOMERIO"
    wrong = client.get(path, HTTP_AUTHORIZATION=basic_auth("wrong-key"), **headers)
    assert wrong.status_code == 401 and "invalid write key" in wrong.content.decode().lower()


def test_rudderstack_android_sdk_config_request(client, source, destination):
    # rudderlabs/rudder-sdk-android, core/src/main/java/com/rudderstack/android/sdk/core/
    # RudderServerConfigManager.java: GET controlPlaneUrl + "sourceConfig?p=android&v=<version>&bv=<API
    # level>" (RudderNetworkManager.addEndPoint puts one slash between them), through
    # RudderNetworkManager.sendNetworkRequest, which sends `Authorization: Basic <key:>` and reads an
    # error body containing "invalid write key" as a wrong key (it then stops retrying); the body is read
    # with Gson into RudderServerConfig (source.id, name, enabled, destinations).
    path = "/sourceConfig?p=android&v=1.27.1&bv=34"
    response = client.get(path, HTTP_AUTHORIZATION=basic_auth(source.write_key))
    assert response.status_code == 200
    document = response.json()["source"]
    assert {"id", "name", "enabled", "destinations"} <= set(document)
    wrong = client.get(path, HTTP_AUTHORIZATION=basic_auth("wrong-key"))
    assert wrong.status_code == 401 and "invalid write key" in wrong.content.decode().lower()


def test_customerio_mobile_sdks_settings_request_then_batch(sender, source, destination, settings):
    # Customer.io's Android and iOS SDKs (their Data Pipelines modules) run on Segment's analytics-kotlin
    # and analytics-swift, with cdnHost and apiHost defaulting to "cdp.customer.io/v1"; pointed here,
    # both are "<relay host>/v1". segmentio/analytics-kotlin, core/src/main/java/com/segment/analytics/
    # kotlin/core/HTTPClient.kt: GET https://$cdnHost/projects/$writeKey/settings with
    # `Content-Type: application/json; charset=utf-8`, then POST https://$apiHost/b, text/plain and gzip,
    # the write key in the batch. segmentio/analytics-swift, Sources/Segment/Utilities/Networking/
    # HTTPClient.swift: the same settings path under cdnHost.
    settings.PUBLIC_URL = "https://relay.example.com"
    client = sender.client
    answer = client.get(
        f"/v1/projects/{source.write_key}/settings",
        content_type="application/json; charset=utf-8",
        HTTP_USER_AGENT="analytics-kotlin/1.16.3",
    )
    assert answer.status_code == 200
    delivery = answer.json()["integrations"]["Customer.io Data Pipelines"]
    assert f"{delivery['protocol']}://{delivery['apiHost']}" == "https://relay.example.com/v1"
    batch = {
        "batch": [{"type": "track", "userId": "ada", "event": "App Opened", "messageId": "m-1"}],
        "writeKey": source.write_key,
        "sentAt": "2026-01-01T00:00:00.000Z",
    }
    with sender.on_commit(execute=True):
        uploaded = client.post(
            "/v1/b",
            data=gzip.compress(json.dumps(batch).encode()),
            content_type="text/plain",
            HTTP_CONTENT_ENCODING="gzip",
        )
    assert uploaded.status_code == 200
    assert Event.objects.get().event_name == "App Opened"


def test_customerio_ios_sdk_settings_request_then_batch(sender, source, destination, settings):
    # segmentio/analytics-swift, Sources/Segment/Utilities/Networking/HTTPClient.swift, which
    # Customer.io's iOS SDK runs on: configuredRequest() gives both requests `Content-Type:
    # application/json; charset=utf-8`, `Accept-Encoding: gzip` and an analytics-ios User-Agent;
    # settingsFor() GETs https://<cdnHost>/projects/<writeKey>/settings and fails on any status over
    # 300; startBatchUpload() POSTs the batch file (which ends with the write key) to https://<apiHost>/b,
    # without an Authorization header.
    settings.PUBLIC_URL = "https://relay.example.com"
    client = sender.client
    headers = {"HTTP_ACCEPT_ENCODING": "gzip", "HTTP_USER_AGENT": "analytics-ios/1.5.11"}
    answer = client.get(
        f"/v1/projects/{source.write_key}/settings", content_type="application/json; charset=utf-8", **headers
    )
    assert answer.status_code == 200
    delivery = answer.json()["integrations"]["Customer.io Data Pipelines"]
    assert f"{delivery['protocol']}://{delivery['apiHost']}" == "https://relay.example.com/v1"
    batch = {
        "batch": [{"type": "screen", "userId": "ada", "name": "Home", "messageId": "m-2"}],
        "sentAt": "2026-01-01T00:00:00.000Z",
        "writeKey": source.write_key,
    }
    with sender.on_commit(execute=True):
        uploaded = client.post(
            "/v1/b", data=json.dumps(batch), content_type="application/json; charset=utf-8", **headers
        )
    assert uploaded.status_code == 200
    assert Event.objects.get().type == "screen"

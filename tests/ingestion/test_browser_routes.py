"""What browsers need of the API: CORS preflights answered without a key, analytics.js's short routes,
text/plain bodies carrying the write key, RudderStack's beacon, trailing slashes, a source's allowed
origins, and JSON (never HTML) for unknown paths and wrong methods."""

from __future__ import annotations

import json

import pytest

from delivery.models import Delivery, Event
from tests.ingestion.conftest import track

pytestmark = pytest.mark.django_db

ORIGIN = "https://shop.example.com"
# Every header the browser SDKs set, as read in their bundles (tests/node_modules): RudderStack's
# (@rudderstack/analytics-js: Accept, Content-Type and Authorization on every request, AnonymousId and
# SentAt on events, the Rsa-* headers on retries), Segment's (@segment/analytics-next: Content-Type,
# Authorization, X-Retry-Count on retries) and Customer.io's (@customerio/cdp-analytics-browser:
# Content-Type only).
SDK_HEADERS = {
    "accept",
    "anonymousid",
    "authorization",
    "content-type",
    "rsa-recovered",
    "rsa-retry-attempt",
    "rsa-retry-reason",
    "rsa-since-first-attempt",
    "rsa-since-last-attempt",
    "sentat",
    "x-retry-count",
}


def preflight(client, path: str, headers: str = ",".join(sorted(SDK_HEADERS))):
    return client.options(
        path,
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


@pytest.mark.parametrize(
    "path",
    [
        "/v1/track",
        "/v1/t",
        "/v1/batch/",
        "/v1/b",
        "/beacon/v1/batch",
        "/sourceConfig/",
        "/sourceConfig",
        "/v1/projects/k/settings",
        "/v1/projects/k/settings/",
    ],
)
def test_a_preflight_is_answered_without_a_write_key(client, path):
    # Given a browser on another origin about to send with every header an SDK sets
    # When it asks first
    response = preflight(client, path)
    # Then the answer allows that origin, those headers and methods, for a day, without credentials
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    allowed_headers = {name.strip() for name in response["Access-Control-Allow-Headers"].split(",")}
    assert allowed_headers >= SDK_HEADERS
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert response["Access-Control-Max-Age"] == "86400"
    assert "Access-Control-Allow-Credentials" not in response
    assert Event.objects.count() == 0


def test_the_admin_answers_no_cross_origin_request(client):
    response = preflight(client, "/admin/login/")
    assert "Access-Control-Allow-Origin" not in response


def test_an_event_from_a_browser_carries_the_cors_header(sender):
    response = sender.post("/v1/track", track(), HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ORIGIN


@pytest.mark.parametrize(
    ("short", "kind", "body"),
    [
        ("t", "track", {"event": "Viewed"}),
        ("i", "identify", {"traits": {"plan": "pro"}}),
        ("p", "page", {"name": "Pricing"}),
        ("s", "screen", {"name": "Home"}),
        ("g", "group", {"groupId": "acme"}),
        ("a", "alias", {"previousId": "anon-1"}),
    ],
)
def test_analytics_js_short_routes_store_their_type(sender, short, kind, body):
    # Given analytics.js's text/plain request with the write key in the body (no preflight needed)
    payload = json.dumps({"userId": "ann", "writeKey": sender.write_key, **body}).encode()
    with sender.on_commit(execute=True):
        response = sender.client.post(f"/v1/{short}", data=payload, content_type="text/plain")
    # Then it is stored as that type, with a delivery
    assert response.status_code == 200, response.content
    assert Event.objects.get().type == kind
    assert Delivery.objects.count() == 1


def test_analytics_js_batch_route_takes_a_batch(sender):
    batch = [{"type": "track", **track()}, {"type": "identify", "userId": "ann"}]
    response = sender.post("/v1/b", {"batch": batch, "writeKey": sender.write_key}, auth="")
    assert response.status_code == 200
    assert Event.objects.count() == 2


def test_the_beacon_takes_the_write_key_from_the_query(sender):
    # Given RudderStack's sendBeacon request: text/plain, no Authorization, ?writeKey=
    payload = json.dumps({"batch": [{"type": "track", "anonymousId": "a-1", "event": "Left"}]}).encode()
    with sender.on_commit(execute=True):
        response = sender.client.post(
            f"/beacon/v1/batch?writeKey={sender.write_key}", data=payload, content_type="text/plain"
        )
    assert response.status_code == 200, response.content
    assert Event.objects.get().event_name == "Left"


def test_the_beacon_without_a_key_is_refused_in_json(sender):
    payload = json.dumps({"batch": [track()]}).encode()
    response = sender.client.post("/beacon/v1/batch", data=payload, content_type="text/plain")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_write_key"


@pytest.mark.parametrize("path", ["/v1/track/", "/v1/import/track/", "/v1/t/"])
def test_single_event_routes_answer_with_a_trailing_slash(sender, path):
    assert sender.post(path, track()).status_code == 200


@pytest.mark.parametrize("path", ["/v1/batch/", "/v1/import/", "/v1/b/", "/beacon/v1/batch/"])
def test_batch_routes_answer_with_a_trailing_slash(sender, path):
    assert sender.post(path, {"batch": [{"type": "track", **track()}]}).status_code == 200


def test_an_origin_off_the_source_list_is_refused_and_nothing_is_stored(sender, source):
    # Given a source that accepts browsers from its own site only
    source.allowed_origins = ["https://www.example.com"]
    source.save()
    # When a page on another site sends with its key
    refused = sender.post("/v1/track", track(), HTTP_ORIGIN="https://evil.example.net")
    # Then it gets a clear 403 and nothing is stored; its own site, and servers (no Origin), may send
    assert refused.status_code == 403
    assert refused.json() == {
        "error": "origin https://evil.example.net is not among this source's allowed origins",
        "code": "origin_not_allowed",
        "message": "origin https://evil.example.net is not among this source's allowed origins",
    }
    assert Event.objects.count() == 0
    assert sender.post("/v1/track", track(), HTTP_ORIGIN="https://www.example.com").status_code == 200
    assert sender.post("/v1/track", track()).status_code == 200
    assert Event.objects.count() == 2


@pytest.mark.parametrize(
    "path",
    [
        "/v1/nothing",
        "/v1/",
        "/v1",
        "/beacon",
        "/beacon/v1/track",
        "/sourceConfig/extra",
        "/v1/projects/k/other",
    ],
)
def test_an_unknown_path_is_a_json_404_a_page_can_read(client, path):
    # Given a page on another origin calling a path the API does not have
    get = client.get(path, HTTP_ORIGIN=ORIGIN)
    post = client.post(path, data="{}", content_type="application/json", HTTP_ORIGIN=ORIGIN)
    # Then it gets the API's JSON 404, with the CORS header that lets the page read it
    for response in (get, post):
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json()["code"] == "not_found"
        assert response["Access-Control-Allow-Origin"] == ORIGIN


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/v1/track"),
        ("put", "/v1/t"),
        ("delete", "/beacon/v1/batch"),
        ("post", "/sourceConfig/"),
        ("put", "/sourceConfig"),
        ("post", "/v1/projects/k/settings"),
        ("post", "/v1/schema"),
        ("delete", "/v1/schema/"),
    ],
)
def test_a_wrong_method_is_a_json_405_before_the_key_is_looked_at(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/v1/track", "POST, OPTIONS"),
        ("/sourceConfig/", "GET, HEAD, OPTIONS"),
        ("/v1/projects/k/settings", "GET, HEAD, OPTIONS"),
    ],
)
def test_a_bare_options_says_which_methods_a_route_takes(client, path, allowed):
    response = client.options(path)
    assert response.status_code == 204
    assert response["Allow"] == allowed


def test_the_schema_answers_with_a_trailing_slash(client):
    response = client.get("/v1/schema/")
    assert response.status_code == 200
    assert response.content.startswith(b"openapi: ")

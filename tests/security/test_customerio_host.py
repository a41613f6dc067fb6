"""The Customer.io base URL comes only from settings: no event and no destination field can make the
transport call another host, or another endpoint than the one for the event's own person.

tests/track_api/test_transport.py shows transport.send() refusing non-canonical hosts; here whole
events with hostile ids and URL-shaped fields go through the engine, and every URL the HTTP session
was asked for is recorded.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
import requests

from delivery.engine import loop as engine
from delivery.models import Delivery
from destinations.models import Destination
from tests.support.factories import make_delivery, make_destination, track

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE_IDS = [
    "@evil.example/",
    "user@evil.example",
    "../",
    "../../api/v1/merge_customers",
    "..",
    ".",
    "%2e%2e",
    "https://evil.example/api/v1/customers/x",
    "//evil.example/x",
    "x?y=1#z",
    "x\r\nHost: evil.example",
    "\\\\evil.example\\x",
]
URL_FIELDS = {
    "context": {"page": {"url": "https://evil.example/"}, "library": {"name": "https://evil.example"}},
    "properties": {"url": "https://evil.example/", "endpoint": "https://evil.example/api/v1/customers/x"},
}


@pytest.fixture
def urls(monkeypatch) -> list[str]:
    """Every URL the transport's HTTP session is asked for."""
    asked: list[str] = []
    original = requests.Session.request

    def recording(self, method, url, *args, **kwargs):
        asked.append(url)
        return original(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", recording)
    return asked


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_hostile_ids_and_url_fields_reach_only_their_own_endpoint_at_the_configured_host(fake, urls, version):
    # Given events whose ids and fields look like hosts, paths and URLs
    destination = make_destination(api_version=version)
    for person in HOSTILE_IDS:
        make_delivery(destination, {**track(person, "Clicked"), **URL_FIELDS})
    make_delivery(
        destination, {"type": "identify", "userId": "..", "traits": {"website": "https://evil.example"}}
    )
    # When the engine delivers them
    engine.deliver_due(destination.pk)
    # Then every request went to the configured base URL, and nowhere else
    assert urls and all(url.startswith(fake.url + "/api/") for url in urls), urls
    # And each v1 request went to the endpoint of its own person, the id kept inside one path segment
    expected = {f"/api/v1/customers/{quote(person, safe='')}" for person in HOSTILE_IDS}
    for request in fake.requests():
        if version == "v2":
            assert request.path == "/api/v2/batch"
        else:
            assert request.path.removesuffix("/events") in expected, request.path
    # And every event ended delivered, or failed saying why
    for status, reason in Delivery.objects.values_list("status", "reason"):
        assert status == "delivered" or (status == "failed" and reason)


def test_no_destination_field_holds_a_host_or_url():
    # The admin's forms and the CLI edit Destination's fields: none of them can name where requests go.
    names = {field.name for field in Destination._meta.get_fields()}
    assert not {name for name in names if "url" in name or "host" in name or "endpoint" in name}


def test_the_eu_data_center_goes_to_the_eu_setting_only(fake, urls, settings):
    settings.CIO_TRACK_URL_US = "http://127.0.0.1:9"  # nothing listens: a request here would fail
    destination = make_destination(data_center=Destination.DataCenter.EU)
    make_delivery(destination, track("ann", "Order"))
    engine.deliver_due(destination.pk)
    assert urls == [fake.url + "/api/v1/customers/ann/events"]
    assert Delivery.objects.get().status == "delivered"

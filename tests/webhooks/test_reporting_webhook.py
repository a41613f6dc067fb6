"""POST /webhooks/customerio/<token>: Customer.io's signature checked, each event stored once, 200 after
the commit, and every refusal a clear answer that stores nothing."""

from __future__ import annotations

import json
import time

import pytest

from delivery.models import MessageActivity
from delivery.webhooks import addresses
from delivery.webhooks.signature import sign
from tests.support.factories import make_destination
from tests.webhooks.examples import METRICS, RECIPIENTS, SIGNING_KEY, event, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def destination():
    return make_destination(webhook_signing_key=SIGNING_KEY)


def test_a_signed_event_is_stored_with_its_fields_then_answered_200(client, destination):
    # Given an email bounce as Customer.io posts it
    document = event("email", "bounced", timestamp=1_700_000_000)
    # When it is posted, signed with the destination's key
    response = post(client, destination, document)
    # Then the answer is 200 and the row holds what a support person needs
    assert response.status_code == 200, response.content
    row = MessageActivity.objects.get()
    assert (row.destination_id, row.object_type, row.metric) == (destination.pk, "email", "bounced")
    assert row.occurred_at.timestamp() == 1_700_000_000
    assert (row.customer_id, row.cio_id, row.email, row.recipient) == (
        "ann",
        "cioann",
        "ann@example.com",
        "ann@example.com",
    )
    assert (row.campaign_id, row.action_id, row.cio_delivery_id) == (
        "5",
        "36",
        "RPILAgABcRhIBqSp7kiPekGBIeVh",
    )
    assert row.message_name == "Welcome!"
    assert row.reason == "bounced: 550 5.1.1 mailbox does not exist"
    assert json.loads(row.raw_body) == document


@pytest.mark.parametrize(
    ("object_type", "metric"),
    [(object_type, metric) for object_type, metrics in METRICS.items() for metric in metrics],
)
def test_every_documented_metric_of_every_channel_is_stored(client, destination, object_type, metric):
    response = post(client, destination, event(object_type, metric))
    assert response.status_code == 200, response.content
    row = MessageActivity.objects.get()
    assert (row.object_type, row.metric, row.customer_id) == (object_type, metric, "ann")
    assert row.recipient == RECIPIENTS.get(object_type, "ann@example.com")
    if metric == "clicked":
        assert row.reason == "https://example.com/start"


def test_a_metric_customer_io_adds_later_is_stored_as_it_comes(client, destination):
    response = post(client, destination, event("whatsapp", "read", recipient="+15551234567"))
    assert response.status_code == 200
    assert MessageActivity.objects.get().metric == "read"


def test_a_repeated_event_id_is_answered_200_and_stored_once(client, destination):
    # Given an event Customer.io posts again (it missed our answer and retried)
    document = event("email", "delivered")
    # When it arrives twice, the second time signed at a later time
    first = post(client, destination, document)
    second = post(client, destination, document)
    # Then both are answered 200 and one row is stored
    assert (first.status_code, second.status_code) == (200, 200)
    assert MessageActivity.objects.count() == 1


def test_the_same_event_id_at_two_destinations_is_two_rows(client, destination):
    other = make_destination(webhook_signing_key="another-signing-key")
    document = event("email", "opened")
    assert post(client, destination, document).status_code == 200
    assert post(client, other, document, key="another-signing-key").status_code == 200
    assert MessageActivity.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"key": "not-the-signing-key"}, "does not match the body"),
        ({"X-CIO-Signature": "0" * 64}, "does not match the body"),
        ({"X-CIO-Signature": None}, "X-CIO-Signature header is missing"),
        ({"X-CIO-Timestamp": None}, "X-CIO-Timestamp header is missing"),
        ({"X-CIO-Timestamp": "yesterday"}, "must be a Unix time"),
    ],
)
def test_a_bad_or_missing_signature_is_401_and_stores_nothing(client, destination, change, message):
    response = post(client, destination, event(), **change)
    assert response.status_code == 401
    assert message in response.json()["error"]
    assert MessageActivity.objects.count() == 0


def test_a_body_changed_after_signing_is_401(client, destination):
    body = json.dumps(event()).encode()
    stamp = str(int(time.time()))
    signature = sign(SIGNING_KEY, stamp, body)
    tampered = body.replace(b'"sent"', b'"opened"')
    response = client.post(
        destination.webhook_path(),
        tampered,
        content_type="application/json",
        HTTP_X_CIO_TIMESTAMP=stamp,
        HTTP_X_CIO_SIGNATURE=signature,
    )
    assert response.status_code == 401 and MessageActivity.objects.count() == 0


@pytest.mark.parametrize("seconds", [-301, 301, -86_400])
def test_a_stale_or_future_timestamp_is_401_even_when_correctly_signed(client, destination, seconds):
    document = json.dumps(event()).encode()
    stamp = str(int(time.time()) + seconds)
    response = client.post(
        destination.webhook_path(),
        document,
        content_type="application/json",
        HTTP_X_CIO_TIMESTAMP=stamp,
        HTTP_X_CIO_SIGNATURE=sign(SIGNING_KEY, stamp, document),
    )
    assert response.status_code == 401
    assert "seconds from this server's clock" in response.json()["error"]
    assert MessageActivity.objects.count() == 0


def test_a_destination_without_a_signing_key_refuses_every_post(client):
    destination = make_destination()
    response = post(client, destination, event())
    assert response.status_code == 401
    assert "no reporting webhook signing key" in response.json()["error"]
    assert MessageActivity.objects.count() == 0


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"{not json", "the body is not JSON"),
        (b"[]", "one JSON object"),
        ({**event(), "event_id": ""}, "event_id: required"),
        ({**event(), "metric": 7}, "metric: required"),
        ({k: v for k, v in event().items() if k != "object_type"}, "object_type: required"),
        ({**event(), "timestamp": "2024-01-01"}, "timestamp: required, a Unix time"),
        ({**event(), "timestamp": 10**20}, "timestamp: not a time"),
        ({**event(), "data": ["x"]}, "data: must be an object"),
        ({**event(), "event_id": "x" * 256}, "event_id: at most 255"),
    ],
)
def test_a_malformed_body_is_400_naming_what_is_wrong(client, destination, document, message):
    response = post(client, destination, document)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert MessageActivity.objects.count() == 0


def test_an_unknown_address_is_404(client, destination):
    response = client.post("/webhooks/customerio/not-a-token", b"{}", content_type="application/json")
    assert response.status_code == 404


def test_get_is_not_allowed(client, destination):
    assert client.get(destination.webhook_path()).status_code == 405


def test_a_rotated_address_stops_working_and_the_new_one_works(client, destination, settings):
    settings.CIO_WEBHOOK_ADDRESS_CACHE_SECONDS = 0
    old_path = destination.webhook_path()
    destination.rotate_webhook_token()
    destination.save()
    document = event()
    body = json.dumps(document).encode()
    stamp = str(int(time.time()))
    old = client.post(
        old_path,
        body,
        content_type="application/json",
        HTTP_X_CIO_TIMESTAMP=stamp,
        HTTP_X_CIO_SIGNATURE=sign(SIGNING_KEY, stamp, body),
    )
    assert old.status_code == 404
    assert post(client, destination, document).status_code == 200


def test_a_nul_character_in_a_field_is_stored_without_it(client, destination):
    response = post(client, destination, event(failure_message="bad\u0000reason"))
    assert response.status_code == 200
    assert MessageActivity.objects.get().reason == "badreason"


def test_an_address_is_remembered_for_a_few_seconds_then_read_again(client, destination, settings):
    # Given an address that was just used (and so is remembered)
    assert post(client, destination, event()).status_code == 200
    old_path = destination.webhook_path()
    destination.rotate_webhook_token()
    destination.save()
    body = json.dumps(event()).encode()
    stamp = str(int(time.time()))
    signed = {"HTTP_X_CIO_TIMESTAMP": stamp, "HTTP_X_CIO_SIGNATURE": sign(SIGNING_KEY, stamp, body)}
    # When it is used again within the cache time, it still works; after it, it is refused
    assert client.post(old_path, body, content_type="application/json", **signed).status_code == 200
    settings.CIO_WEBHOOK_ADDRESS_CACHE_SECONDS = 0
    addresses.forget_all()
    assert client.post(old_path, body, content_type="application/json", **signed).status_code == 404


def test_every_destination_has_its_own_unguessable_address():
    first, second = make_destination(), make_destination()
    assert first.webhook_token != second.webhook_token
    assert len(first.webhook_token) >= 32
    assert first.webhook_path() == f"/webhooks/customerio/{first.webhook_token}"

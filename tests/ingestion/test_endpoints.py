"""Each endpoint stores what it is sent, with one pending delivery per connected destination."""

from __future__ import annotations

import pytest

from delivery.models import Delivery, Event
from tests.ingestion.conftest import track

pytestmark = pytest.mark.django_db

SINGLE = {
    "identify": {"userId": "user-1", "traits": {"email": "ada@example.com", "plan": "pro"}},
    "track": track(),
    "page": {"anonymousId": "anon-1", "name": "Pricing", "properties": {"path": "/pricing"}},
    "screen": {"userId": "user-1", "name": "Settings"},
    "group": {"userId": "user-1", "groupId": "acme", "traits": {"employees": 40}},
    "alias": {"userId": "user-1", "previousId": "anon-1"},
}


@pytest.mark.parametrize("kind", SINGLE)
def test_single_event_endpoint_stores_the_event_and_a_pending_delivery(sender, destination, rings, kind):
    # Given a source connected to one enabled destination
    # When an SDK sends one event to its endpoint
    response = sender.post(f"/v1/{kind}", SINGLE[kind])
    # Then the answer is Segment's success body, and the event and its delivery are stored
    assert response.status_code == 200
    assert response.json() == {"success": True}
    event = Event.objects.get()
    assert event.type == kind
    assert event.payload["type"] == kind
    for field, value in SINGLE[kind].items():
        assert event.payload[field] == value
    delivery = Delivery.objects.get()
    assert (delivery.event, delivery.destination, delivery.status) == (event, destination, "pending")
    assert delivery.message_type == kind
    assert rings == [[destination.id]]


def test_stored_rows_carry_the_searchable_columns(sender, source):
    # Given a track with a user, an anonymous id and an email in context.traits
    body = track(anonymousId="anon-9", context={"traits": {"email": "ada@example.com"}})
    # When it is sent
    sender.post("/v1/track", body)
    # Then the event and delivery columns are filled from it
    event = Event.objects.get()
    assert (event.source, event.user_id, event.anonymous_id) == (source, "user-1", "anon-9")
    assert (event.email, event.event_name) == ("ada@example.com", "Order Completed")
    delivery = Delivery.objects.get()
    assert (delivery.source, delivery.person, delivery.event_name) == (source, "user-1", "Order Completed")
    assert delivery.next_attempt_at == delivery.created_at == event.received_at
    assert delivery.finished_at is None


def test_email_comes_from_traits_then_context_traits_then_properties(sender):
    # Given three events that carry an email in different places
    sender.post(
        "/v1/identify",
        {"userId": "a", "traits": {"email": "t@x.io"}, "context": {"traits": {"email": "c@x.io"}}},
    )
    sender.post(
        "/v1/track",
        track(userId="b", context={"traits": {"email": "c@x.io"}}, properties={"email": "p@x.io"}),
    )
    sender.post("/v1/track", track(userId="c", properties={"email": "p@x.io"}))
    # Then each stored event takes the first one found
    assert dict(Event.objects.values_list("user_id", "email")) == {
        "a": "t@x.io",
        "b": "c@x.io",
        "c": "p@x.io",
    }


def test_page_and_screen_names_are_the_event_name(sender):
    sender.post("/v1/page", {"userId": "u", "name": "Home"})
    sender.post("/v1/screen", {"userId": "u", "name": "Cart"})
    assert sorted(Delivery.objects.values_list("event_name", flat=True)) == ["Cart", "Home"]


def test_batch_stores_every_item_in_order_with_deliveries_in_the_same_order(sender, destination, rings):
    # Given a batch of the six types
    batch = [{"type": kind, **body} for kind, body in sample_bodies()]
    # When it is sent to /v1/batch
    response = sender.post("/v1/batch", {"batch": batch, "sentAt": "2026-01-01T00:00:00Z"})
    # Then every item is stored, and delivery ids follow the batch order
    assert response.status_code == 200
    deliveries = list(Delivery.objects.order_by("id"))
    assert [delivery.message_type for delivery in deliveries] == [item["type"] for item in batch]
    assert [delivery.event.type for delivery in deliveries] == [item["type"] for item in batch]
    assert rings == [[destination.id]]


def test_one_delivery_per_connected_enabled_destination(sender, source):
    # Given a second connected destination
    from destinations.models import Destination

    second = Destination.objects.create(name="Customer.io EU", site_id="s", api_key="k", data_center="EU")
    second.sources.add(source)
    # When two events arrive
    sender.post("/v1/batch", {"batch": [{"type": "track", **track()}, {"type": "identify", "userId": "u"}]})
    # Then each event has a delivery to each destination
    assert Delivery.objects.count() == 4
    assert set(Delivery.objects.values_list("destination__name", flat=True)) == {
        "Customer.io production",
        "Customer.io EU",
    }


def test_a_source_without_destinations_still_stores_its_events(client, source, rings):
    from tests.ingestion.conftest import Sender

    response = Sender(client, source.write_key).post("/v1/track", track())
    assert response.status_code == 200
    assert Event.objects.count() == 1
    assert Delivery.objects.count() == 0
    assert rings == []


@pytest.mark.parametrize("kind", SINGLE)
def test_import_endpoints_store_historical_events_marked_as_imported(sender, kind):
    # Given an event from two years ago, sent with a sentAt from now
    body = {**SINGLE[kind], "timestamp": "2024-03-01T12:00:00.000Z", "sentAt": "2026-11-23T00:00:00Z"}
    # When it is sent to /v1/import/<type>
    response = sender.post(f"/v1/import/{kind}", body)
    # Then it keeps the client's timestamp untouched and carries the import marker
    assert response.status_code == 200
    payload = Event.objects.get().payload
    assert payload["timestamp"] == "2024-03-01T12:00:00.000Z"
    assert payload["cioRelay"]["import"] is True


@pytest.mark.parametrize("path", ["/v1/import/batch", "/v1/import"])
def test_import_batches_are_accepted_at_both_paths(sender, path):
    batch = [{"type": "track", **track(timestamp="2023-05-05T05:05:05Z")}]
    response = sender.post(path, {"batch": batch})
    assert response.status_code == 200
    assert Event.objects.get().payload["cioRelay"]["import"] is True


def test_live_events_never_carry_the_import_marker_even_if_the_client_sends_it(sender):
    sender.post("/v1/track", track(cioRelay={"import": True, "requestId": "forged"}))
    relay = Event.objects.get().payload["cioRelay"]
    assert "import" not in relay and relay["requestId"] != "forged"


def test_each_event_keeps_the_id_of_the_request_that_brought_it(sender):
    # Given a request with the proxy's X-Request-ID, and one without
    first = sender.post(
        "/v1/batch", {"batch": [{"type": "track", **track()}] * 2}, HTTP_X_REQUEST_ID="req-42"
    )
    second = sender.post("/v1/track", track(event="Other"))
    # Then each answer says its id, and each stored event keeps it
    assert first["X-Request-ID"] == "req-42"
    made_up = second["X-Request-ID"]
    assert len(made_up) == 32 and made_up != "req-42"
    ids = sorted(event.request_id for event in Event.objects.all())
    assert ids == sorted(["req-42", "req-42", made_up])


@pytest.mark.parametrize("sent", ["has spaces", "x" * 65, "a/b", "é"])
def test_a_request_id_that_is_not_a_plain_token_is_replaced(sender, sent):
    response = sender.post("/v1/track", track(), HTTP_X_REQUEST_ID=sent)
    assert response["X-Request-ID"] != sent and Event.objects.get().request_id == response["X-Request-ID"]


def test_the_write_key_is_never_stored_in_the_payload(client, source, destination):
    from tests.ingestion.conftest import Sender

    body = {
        "writeKey": source.write_key,
        "batch": [{"type": "track", "writeKey": source.write_key, **track()}],
    }
    response = Sender(client, source.write_key).post("/v1/batch", body, auth="")
    assert response.status_code == 200
    assert source.write_key not in str(Event.objects.get().payload)


def sample_bodies():
    return list(SINGLE.items())

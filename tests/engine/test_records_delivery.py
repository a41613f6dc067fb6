"""Record messages go through the engine like every other message: delivered as the transformer builds
them, in each person's order, and a date the transformer left out is on the delivery's page."""

from __future__ import annotations

import pytest

from delivery.engine import loop as engine
from tests.support.factories import make_delivery, make_destination, reload

pytestmark = pytest.mark.django_db(transaction=True)


def record(action: str, identifiers: dict, **fields):
    return {"type": "record", "action": action, "identifiers": identifiers, **fields}


def test_rows_of_people_and_events_reach_customer_io_in_order(fake):
    # Given a v2 destination and four rows for ann and bob: a person, a change, an event, a removal
    destination = make_destination(api_version="v2")
    rows = [
        record("insert", {"id": "ann"}, fields={"plan": "free"}),
        record("update", {"id": "ann"}, fields={"plan": "pro"}),
        record(
            "insert",
            {"id": "ann"},
            object="event",
            event="Upgraded",
            fields={"created_at": "2024-06-25 14:00:00"},
        ),
        record("delete", {"email": "bob@example.com"}),
    ]
    deliveries = [make_delivery(destination, row) for row in rows]
    # When the engine runs
    engine.deliver_due(destination.pk)
    # Then Customer.io received them in one batch, in the order received
    (batch,) = fake.requests()
    assert batch.path == "/api/v2/batch"
    assert batch.json["batch"] == [
        {
            "type": "person",
            "action": "identify",
            "identifiers": {"id": "ann"},
            "attributes": {"plan": "free"},
        },
        {"type": "person", "action": "identify", "identifiers": {"id": "ann"}, "attributes": {"plan": "pro"}},
        {
            "type": "person",
            "action": "event",
            "identifiers": {"id": "ann"},
            "name": "Upgraded",
            "timestamp": 1719324000,
        },
        {"type": "person", "action": "delete", "identifiers": {"email": "bob@example.com"}},
    ]
    assert [reload(delivery).status for delivery in deliveries] == ["delivered"] * 4


def test_a_v1_destination_deletes_a_removed_person(fake):
    destination = make_destination()
    delivery = make_delivery(destination, record("delete", {"id": "u/1"}))
    engine.deliver_due(destination.pk)
    (request,) = fake.requests()
    assert (request.method, request.path) == ("DELETE", "/api/v1/customers/u%2F1")
    assert reload(delivery).status == "delivered"


def test_a_record_without_a_usable_identifier_fails_alone_with_its_reason(fake):
    destination = make_destination(api_version="v2")
    good = make_delivery(destination, record("insert", {"id": "ann"}))
    bad = make_delivery(destination, record("insert", {"object_id": "x"}, object="event", event="E"))
    engine.deliver_due(destination.pk)
    assert reload(good).status == "delivered"
    bad = reload(bad)
    assert bad.status == "failed" and "cio_id, id or email" in bad.reason


def test_an_unreadable_date_is_left_out_and_the_page_says_so(fake, admin_client):
    # Given an event whose time no reader can read
    destination = make_destination()
    sent = {"type": "track", "userId": "ann", "event": "Paid", "originalTimestamp": "last tuesday"}
    delivery = make_delivery(destination, {**sent, "traits": {}})
    # When it is delivered
    engine.deliver_due(destination.pk)
    # Then it reached Customer.io without a time, and its page names the field and why
    (request,) = fake.requests()
    assert "timestamp" not in request.json
    page = admin_client.get(f"/admin/delivery/delivery/{delivery.pk}/change/").content.decode()
    assert "Left out of the request" in page
    assert (
        "originalTimestamp &#x27;last tuesday&#x27; is not a date, so it was left out of the request" in page
    )

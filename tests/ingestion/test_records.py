"""`record` messages (rows of a table, RudderStack's reverse-ETL shape) in /v1/batch: stored like every
other message when well formed, refused with the field named when not."""

from __future__ import annotations

import pytest

from delivery.models import Delivery, Event
from tests.ingestion.test_rejections import assert_rejected

pytestmark = pytest.mark.django_db


def record(**fields):
    return {
        "type": "record",
        "action": "insert",
        "identifiers": {"id": "user-1"},
        "fields": {"plan": "pro"},
        **fields,
    }


def test_a_batch_of_records_is_stored_with_a_delivery_each(sender):
    # given a batch of rows: a person, an event, an object, and a person removed
    batch = [
        record(messageId="r1"),
        record(
            messageId="r2", object="event", event="Order Completed", identifiers={"email": "a@example.com"}
        ),
        record(messageId="r3", object="object", identifiers={"object_type_id": "1", "object_id": "acme"}),
        record(messageId="r4", action="delete", identifiers={"cio_id": 7}),
    ]
    # when it is sent
    response = sender.post("/v1/batch", {"batch": batch})
    # then every row is an event with a pending delivery, searchable by its person and name
    assert response.status_code == 200, response.content
    events = {event.message_id: event for event in Event.objects.all()}
    assert {event.type for event in events.values()} == {"record"}
    assert (events["r1"].user_id, events["r2"].email, events["r2"].event_name) == (
        "user-1",
        "a@example.com",
        "Order Completed",
    )
    deliveries = {
        delivery.event.message_id: delivery for delivery in Delivery.objects.select_related("event")
    }
    assert {delivery.status for delivery in deliveries.values()} == {Delivery.Status.PENDING}
    assert [deliveries[key].person for key in ("r1", "r2", "r4")] == ["user-1", "a@example.com", "7"]
    assert deliveries["r1"].message_type == "record"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            record(action="upsert"),
            'batch[0].action: unknown action "upsert"; expected one of insert, update, delete',
        ),
        (record(action=None), "batch[0].action: missing; expected one of insert, update, delete"),
        (record(identifiers={}), "batch[0].identifiers: a record needs a non-empty cio_id, id or email"),
        (
            record(identifiers={"id": "  "}),
            "batch[0].identifiers: a record needs a non-empty cio_id, id or email",
        ),
        (record(identifiers="user-1"), "batch[0].identifiers: must be an object"),
        (record(fields=[1]), "batch[0].fields: must be an object"),
        (record(object="account"), "batch[0].object: must be one of person, event, object"),
        (
            record(connection={"config": {"destination": {"object": "account"}}}),
            "batch[0].connection.config.destination.object: must be one of person, event, object",
        ),
        (
            record(object="object", identifiers={"object_id": "acme"}),
            "batch[0].identifiers.object_type_id: an object record needs it (a string or a number)",
        ),
        (
            record(relationships={"id": "u1"}),
            "batch[0].relationships: must be a list of people's identifiers",
        ),
    ],
)
def test_a_malformed_record_is_refused_naming_the_field(sender, item, message):
    assert_rejected(sender.post("/v1/batch", {"batch": [item]}), 400, message)


def test_an_event_row_is_logged_under_its_name_column_and_a_person_row_is_not(sender):
    # given RudderStack's rows: an event named by its name column, in a connection whose object is
    # "event", and a person whose name column is their name
    events = {"config": {"destination": {"object": "event", "syncMode": "upsert"}}}
    batch = [
        record(messageId="e1", identifiers={"id": "u1", "name": "Order Completed"}, connection=events),
        record(messageId="p1", identifiers={"id": "u2", "name": "Ann Lee"}),
    ]
    # when they are sent
    assert sender.post("/v1/batch", {"batch": batch}).status_code == 200
    # then the log finds the event by its name, and the person is not logged as an event named Ann Lee
    names = dict(Event.objects.values_list("message_id", "event_name"))
    assert names == {"e1": "Order Completed", "p1": ""}

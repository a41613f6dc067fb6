"""RudderStack's `record` messages (reverse ETL): people, events and objects, as its v2 path sends them."""

from __future__ import annotations

import pytest

from destinations.customerio import InstrumentationError, person_key, transform, transform_stream
from tests.transformer.helpers import US, config, item, send

PERSON = {"connection": {"config": {"destination": {"object": "person", "syncMode": "mirror"}}}}
EVENTS = {"connection": {"config": {"destination": {"object": "event", "syncMode": "upsert"}}}}


def record(action="insert", **fields):
    return {"type": "record", "action": action, **fields}


@pytest.mark.parametrize(("action", "expected"), [("insert", "identify"), ("update", "identify")])
def test_a_new_or_changed_row_identifies_the_person(action, expected):
    # given a row of a people table, its columns beside the identifier
    message = record(action, identifiers={"id": "user-123"}, fields={"plan": "pro", "age": 30})
    # when it is transformed for a v2 destination
    # then the person is identified with the columns as attributes
    assert item(message, apiVersion="v2", **PERSON) == {
        "type": "person",
        "action": expected,
        "identifiers": {"id": "user-123"},
        "attributes": {"plan": "pro", "age": 30},
    }


def test_columns_among_the_identifiers_are_attributes_as_in_the_reference():
    message = record(identifiers={"id": "user-123", "plan": "pro"})
    assert item(message, apiVersion="v2")["attributes"] == {"plan": "pro"}


def test_a_removed_row_deletes_the_person_with_nothing_else():
    message = record("delete", identifiers={"id": "user-456"}, fields={"plan": "pro"})
    assert item(message, apiVersion="v2", **PERSON) == {
        "type": "person",
        "action": "delete",
        "identifiers": {"id": "user-456"},
    }


def test_cio_id_then_id_then_email_names_the_person():
    # given a record carrying all three identifiers
    message = record(identifiers={"cio_id": "cio-abc", "id": "user-789", "email": "u@example.com"})
    sent = item(message, apiVersion="v2")
    # then cio_id is the person, and the others are attributes
    assert sent["identifiers"] == {"cio_id": "cio-abc"}
    assert sent["attributes"] == {"id": "user-789", "email": "u@example.com"}
    assert item(record(identifiers={"id": "", "email": "u@example.com"}), apiVersion="v2")["identifiers"] == {
        "email": "u@example.com"
    }


@pytest.mark.parametrize("identifiers", [{}, {"id": ""}, {"id": "   "}, {"plan": "pro"}, None, {"id": None}])
def test_a_record_with_no_usable_identifier_fails_alone_and_says_why(identifiers):
    # given a stream in which one record has no identifier
    stream = [record(identifiers={"id": "user-100"}), record(identifiers=identifiers)]
    # when the stream is transformed
    result = transform_stream(stream, config(apiVersion="v2"))
    # then the good record is sent and the other fails with the field named
    assert list(result.requests) == [0]
    assert "identifiers" in result.failed[1].message and "cio_id, id or email" in result.failed[1].message


def test_an_event_row_is_an_event_named_and_dated_by_its_columns():
    # given a row of an events table, in a connection whose object is "event"
    message = record(
        identifiers={"id": "user-123", "name": "Order Completed", "plan": "pro"},
        fields={"created_at": "2024-06-25T14:00:00.000Z"},
    )
    # then it is an event of the person, at created_at, with the other columns as its data
    assert item(message, apiVersion="v2", **EVENTS) == {
        "type": "person",
        "action": "event",
        "identifiers": {"id": "user-123"},
        "name": "Order Completed",
        "timestamp": 1719324000,
        "attributes": {"plan": "pro"},
    }


def test_an_event_row_is_named_by_its_name_column_alone():
    # given an event row with columns called event and name, as the reference reads them
    message = record(identifiers={"id": "u1", "event": "clicked", "name": "Order Completed", "plan": "pro"})
    # then the name column names the event, and the event column is data like the others
    sent = item(message, apiVersion="v2", **EVENTS)
    assert (sent["name"], sent["attributes"]) == ("Order Completed", {"event": "clicked", "plan": "pro"})


@pytest.mark.parametrize("identifiers", [{"id": "u1", "event": "Order Completed"}, {"id": "u1", "name": " "}])
def test_an_event_row_without_a_name_column_fails_as_in_the_reference(identifiers):
    with pytest.raises(InstrumentationError, match="Event name is required"):
        send(record(identifiers=identifiers), apiVersion="v2", **EVENTS)


def test_a_person_row_s_created_at_is_when_it_changed_not_an_attribute():
    # given rows of a people table that carry a created_at column, as the reference's rows do
    changed = record(identifiers={"id": "u1", "plan": "pro", "created_at": "2024-06-25T14:00:00.000Z"})
    removed = record("delete", identifiers={"id": "u2", "created_at": "2024-06-25 15:00:00"})
    # when they are transformed
    # then created_at is the time of the identify or the delete, in unix seconds, and no attribute
    assert item(changed, apiVersion="v2", **PERSON) == {
        "type": "person",
        "action": "identify",
        "identifiers": {"id": "u1"},
        "timestamp": 1719324000,
        "attributes": {"plan": "pro"},
    }
    assert item(removed, apiVersion="v2", **PERSON) == {
        "type": "person",
        "action": "delete",
        "identifiers": {"id": "u2"},
        "timestamp": 1719327600,
    }
    # and a v1 destination dates the identify the same way, with its _timestamp attribute
    assert send(changed, **PERSON).body == {"plan": "pro", "_timestamp": 1719324000}


def test_a_person_row_s_unreadable_created_at_is_left_out_and_said_so():
    request = send(record(identifiers={"id": "u1", "created_at": "soon"}), apiVersion="v2", **PERSON)
    assert request.body["batch"][0] == {"type": "person", "action": "identify", "identifiers": {"id": "u1"}}
    assert request.notes == (
        "identifiers.created_at 'soon' is not a date, so it was left out of the request",
    )


def test_an_event_record_s_own_name_and_object_win():
    message = record(object="event", event="Signed Up", identifiers={"email": "a@example.com"})
    sent = item(message, apiVersion="v2")
    assert (sent["action"], sent["name"], sent["identifiers"]) == (
        "event",
        "Signed Up",
        {"email": "a@example.com"},
    )


def test_an_event_record_with_an_unreadable_time_is_sent_without_it():
    message = record(object="event", event="E", identifiers={"id": "u1"}, fields={"created_at": "soon"})
    request = send(message, apiVersion="v2")
    assert "timestamp" not in request.body["batch"][0]
    assert request.notes == ("fields.created_at 'soon' is not a date, so it was left out of the request",)


def test_an_event_record_needs_a_name():
    with pytest.raises(InstrumentationError, match="name"):
        send(record(object="event", identifiers={"id": "u1"}), apiVersion="v2")


def test_an_event_row_cannot_be_deleted_with_the_reference_s_reason():
    with pytest.raises(InstrumentationError) as failure:
        send(record("delete", identifiers={"id": "u1", "event": "E"}), apiVersion="v2", **EVENTS)
    assert failure.value.message == '"delete" is not supported for object type "event"'


@pytest.mark.parametrize("action", ["upsert", "", None, 1])
def test_an_unknown_action_is_refused_by_name(action):
    with pytest.raises(InstrumentationError, match="action"):
        send(record(action, identifiers={"id": "u1"}), apiVersion="v2")


def test_the_object_can_be_a_destination_setting():
    message = record(event="E", identifiers={"id": "u1"})
    assert item(message, apiVersion="v2", recordObject="event")["action"] == "event"


def test_an_object_row_identifies_the_object_and_relates_its_people():
    message = record(
        object="object",
        identifiers={"object_type_id": "2", "object_id": "acme"},
        fields={"plan": "enterprise"},
        relationships=[{"id": "u1"}, {"email": "b@example.com"}],
    )
    assert item(message, apiVersion="v2") == {
        "type": "object",
        "action": "identify",
        "identifiers": {"object_type_id": "2", "object_id": "acme"},
        "attributes": {"plan": "enterprise"},
        "cio_relationships": [{"identifiers": {"id": "u1"}}, {"identifiers": {"email": "b@example.com"}}],
    }


def test_a_removed_object_row_deletes_the_object():
    message = record("delete", object="object", identifiers={"object_type_id": 2, "object_id": 306})
    assert item(message, apiVersion="v2")["action"] == "delete"
    assert item(message, apiVersion="v2")["identifiers"] == {"object_type_id": "2", "object_id": "306"}


@pytest.mark.parametrize(
    ("message", "method", "path", "body"),
    [
        (
            record(identifiers={"id": "u/1"}, fields={"plan": "pro"}),
            "PUT",
            "/api/v1/customers/u%2F1",
            {"plan": "pro"},
        ),
        (record(identifiers={"cio_id": "abc"}), "PUT", "/api/v1/customers/cio_abc", {}),
        (
            record("delete", identifiers={"email": "a@example.com"}),
            "DELETE",
            "/api/v1/customers/a%40example.com",
            None,
        ),
        (
            record(
                object="event", event="E", identifiers={"id": "u1"}, fields={"created_at": 1719324000, "x": 1}
            ),
            "POST",
            "/api/v1/customers/u1/events",
            {"name": "E", "data": {"x": 1}, "timestamp": 1719324000},
        ),
    ],
)
def test_a_v1_destination_gets_the_v1_calls(message, method, path, body):
    request = send(message)
    assert (request.method, request.endpoint, request.body) == (method, US + path, body)


def test_an_object_record_goes_to_the_batch_api_even_in_v1():
    message = record(object="object", identifiers={"object_type_id": "1", "object_id": "acme"})
    assert send(message).is_batch


def test_a_record_s_person_orders_its_deliveries():
    assert person_key(record(identifiers={"email": "a@example.com", "id": "u1"})) == "u1"
    assert person_key(record(identifiers={"cio_id": 7})) == "7"
    assert person_key(record(identifiers={})) == ""


def test_records_of_one_stream_batch_together():
    stream = [record(identifiers={"id": f"u{index}"}) for index in range(3)]
    results = transform_stream(stream, config(apiVersion="v2")).results()
    assert [result.messages for result in results] == [[0, 1, 2]]
    assert transform(stream[0], config(apiVersion="v2"))[0].body["batch"][0]["identifiers"] == {"id": "u0"}

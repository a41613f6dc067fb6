"""Each deliberate departure from RudderStack (destinations/customerio/DEPARTURES.md), as a test."""

from __future__ import annotations

import pytest

from destinations.customerio import InstrumentationError
from tests.transformer.helpers import EU, item, send


@pytest.mark.parametrize("field", ["userId", "anonymousId"])
@pytest.mark.parametrize("value", [{"id": 1}, ["a", "b"]])
def test_an_id_that_is_an_object_or_an_array_is_refused_not_sent_as_object_object(field, value):
    with pytest.raises(InstrumentationError, match=field):
        send({"type": "track", "event": "E", field: value})


@pytest.mark.parametrize("user_id", [".", ".."])
def test_a_dot_id_is_refused_rather_than_sent_to_another_endpoint(user_id):
    with pytest.raises(InstrumentationError, match=r"cannot name a person in a Customer\.io URL path"):
        send({"type": "track", "event": "E", "userId": user_id})


def test_a_screen_without_a_name_is_refused_not_viewed_undefined_screen():
    with pytest.raises(InstrumentationError, match="a screen call needs a name"):
        send({"type": "screen", "userId": "u1"})


def test_an_eu_destination_s_group_goes_to_the_eu_host():
    request = send({"type": "group", "userId": "u1", "groupId": "acme"}, datacenter="EU")
    assert request.endpoint == EU + "/api/v2/batch"


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ({"type": "identify", "userId": "u1", "traits": "abc"}, "traits"),
        ({"type": "track", "userId": "u1", "event": 123}, "event"),
        ({"type": "track", "userId": "u1", "event": "E", "properties": [1]}, "properties"),
    ],
)
def test_a_field_of_the_wrong_type_is_refused_by_name(message, field):
    with pytest.raises(InstrumentationError, match=field):
        send(message)


@pytest.mark.parametrize("created_at", [1714566615, 1714566615123, "1714566615", "1714566615123"])
def test_a_number_as_a_time_is_seconds_unless_it_can_only_be_milliseconds(created_at):
    body = send({"type": "identify", "userId": "u1", "traits": {"createdAt": created_at}}).body
    assert body == {"created_at": 1714566615}


def test_a_four_digit_string_is_a_year():
    body = send({"type": "identify", "userId": "u1", "traits": {"createdAt": "2024"}}).body
    assert body == {"created_at": 1704067200}  # 2024-01-01T00:00:00Z


@pytest.mark.parametrize(
    "created_at", ["2024-02-30", "May 1", "01.05.2024", "Wed, 01 May 2024 12:30:15 CEST"]
)
def test_a_date_javascript_rolls_over_or_makes_up_is_left_out_with_a_note(created_at):
    # given a createdAt that JavaScript would turn into another day, or read in the wrong zone
    request = send({"type": "identify", "userId": "u1", "traits": {"createdAt": created_at, "plan": "pro"}})
    # then the person is identified without it, and the note says why
    assert request.body == {"plan": "pro"}
    assert request.notes == (
        f"traits.createdAt {created_at!r} is not a date, so it was left out of the request",
    )


def test_a_record_s_null_created_at_is_no_time_rather_than_1970():
    message = {"type": "record", "action": "insert", "identifiers": {"id": "u1", "created_at": None}}
    assert item(message, apiVersion="v2") == {
        "type": "person",
        "action": "identify",
        "identifiers": {"id": "u1"},
    }


def test_a_record_without_a_connection_is_a_person_unless_it_or_the_destination_says_otherwise():
    row = {"type": "record", "action": "insert", "identifiers": {"id": "u1", "name": "E"}}
    assert item(row, apiVersion="v2")["action"] == "identify"
    assert item(row, apiVersion="v2", recordObject="event")["action"] == "event"
    events = {"config": {"destination": {"object": "event"}}}
    assert item({**row, "object": "person", "connection": events}, apiVersion="v2")["action"] == "identify"


def test_a_record_s_numeric_identifier_names_the_person():
    message = {"type": "record", "action": "insert", "identifiers": {"id": 42, "plan": "pro"}}
    assert item(message, apiVersion="v2")["identifiers"] == {"id": 42}
    assert send(message).endpoint.endswith("/api/v1/customers/42")


def test_a_time_without_an_offset_is_utc():
    body = send({"type": "track", "userId": "u1", "event": "E", "timestamp": "2024-05-01 12:30:15"}).body
    assert body["timestamp"] == 1714566615

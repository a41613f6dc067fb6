"""Each deliberate departure from RudderStack (destinations/customerio/DEPARTURES.md), as a test."""

from __future__ import annotations

import pytest

from destinations.customerio import InstrumentationError
from tests.transformer.helpers import EU, send


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


def test_a_number_as_a_time_is_seconds_unless_it_can_only_be_milliseconds():
    seconds = send({"type": "identify", "userId": "u1", "traits": {"createdAt": 1714566615}}).body
    millis = send({"type": "identify", "userId": "u1", "traits": {"createdAt": 1714566615123}}).body
    assert seconds == millis == {"created_at": 1714566615}


def test_a_time_without_an_offset_is_utc():
    body = send({"type": "track", "userId": "u1", "event": "E", "timestamp": "2024-05-01 12:30:15"}).body
    assert body["timestamp"] == 1714566615

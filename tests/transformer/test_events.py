"""track, page and screen -> POST /api/v1/customers/{id}/events, or /api/v1/events when anonymous."""

from __future__ import annotations

import pytest

from destinations.customerio import MAX_EVENT_NAME_BYTES, InstrumentationError
from tests.transformer.helpers import US, send

TIME = "2019-10-14T11:15:18.300Z"
SECONDS = 1571051718


def test_a_track_call_is_an_event_of_the_person():
    # given a track call of a known user
    message = {"type": "track", "userId": "u1", "event": "Order Completed", "properties": {"total": 9.5}}
    # when it is transformed
    request = send({**message, "originalTimestamp": TIME})
    # then Customer.io gets the event with its data and time
    assert (request.method, request.endpoint) == ("POST", f"{US}/api/v1/customers/u1/events")
    assert request.body == {
        "name": "Order Completed",
        "type": "event",
        "data": {"total": 9.5},
        "timestamp": SECONDS,
    }


def test_without_a_user_id_the_event_goes_to_the_email():
    message = {"type": "track", "userId": "", "event": "E", "context": {"traits": {"email": "a@b.co"}}}
    assert send(message).endpoint == f"{US}/api/v1/customers/a%40b.co/events"


def test_an_anonymous_event_carries_the_anonymous_id():
    # given a track call with only an anonymousId
    message = {"type": "track", "anonymousId": "anon-1", "event": "Viewed", "properties": {"a": 1}}
    # when it is transformed
    request = send(message)
    # then it is an anonymous event, which Customer.io merges once the person is identified
    assert (request.method, request.endpoint) == ("POST", f"{US}/api/v1/events")
    assert request.body == {"name": "Viewed", "type": "event", "data": {"a": 1}, "anonymous_id": "anon-1"}


def test_an_event_of_nobody_is_refused():
    with pytest.raises(InstrumentationError, match="anonymousId"):
        send({"type": "track", "event": "Viewed"})


def test_an_anonymous_event_name_is_cut_to_100_bytes():
    # given an anonymous event named with 150 ASCII characters
    name = "x" * 150
    # when it is transformed
    body = send({"type": "track", "anonymousId": "a", "event": name}).body
    # then the name is its first 100 bytes
    assert body["name"] == "x" * MAX_EVENT_NAME_BYTES


def test_the_cut_never_splits_a_character():
    # given a name whose 100th byte falls inside a 3-byte character ("€" is E2 82 AC)
    name = "a" * 98 + "€€"
    # when it is transformed anonymously
    body = send({"type": "track", "anonymousId": "a", "event": name}).body
    # then the half character is dropped whole, and the rest is valid text
    assert body["name"] == "a" * 98
    assert len(body["name"].encode()) <= MAX_EVENT_NAME_BYTES


def test_a_known_person_s_event_name_is_not_cut():
    name = "é" * 80  # 160 bytes
    assert send({"type": "track", "userId": "u1", "event": name}).body["name"] == name


@pytest.mark.parametrize("event", [None, "", 42, ["Clicked"], {"name": "Clicked"}, True])
def test_a_track_call_needs_an_event_name_that_is_a_string(event):
    with pytest.raises(InstrumentationError, match="event"):
        send({"type": "track", "userId": "u1", "event": event})


def test_without_properties_there_is_no_data():
    assert send({"type": "track", "userId": "u1", "event": "E"}).body == {"name": "E", "type": "event"}


@pytest.mark.parametrize("properties", [["a"], "a=1", 3])
def test_properties_that_are_not_an_object_are_refused(properties):
    with pytest.raises(InstrumentationError, match="properties must be a JSON object"):
        send({"type": "track", "userId": "u1", "event": "E", "properties": properties})


def test_traits_that_are_not_an_object_do_not_matter_to_a_track_call():
    assert send({"type": "track", "userId": "u1", "event": "E", "traits": ["a"]}).body["name"] == "E"


def test_a_page_is_named_by_its_name():
    # given a page call with a name and a URL
    message = {"type": "page", "userId": "u1", "name": "Pricing", "properties": {"url": "https://x.io/p"}}
    # when it is transformed
    body = send(message).body
    # then it is a page event named by the name
    assert body == {"type": "page", "name": "Pricing", "data": {"url": "https://x.io/p"}}


def test_a_page_without_a_name_is_named_by_its_url():
    body = send({"type": "page", "userId": "u1", "properties": {"url": "https://x.io/p"}}).body
    assert body["name"] == "https://x.io/p"


def test_a_known_person_s_page_may_have_no_name():
    assert send({"type": "page", "userId": "u1"}).body == {"type": "page"}


def test_an_anonymous_page_needs_a_name():
    with pytest.raises(InstrumentationError, match=r"name or properties\.url"):
        send({"type": "page", "anonymousId": "a"})


def test_an_anonymous_page_name_is_cut_to_100_bytes():
    body = send({"type": "page", "anonymousId": "a", "properties": {"url": "u" * 120}}).body
    assert body["name"] == "u" * 100


def test_a_numeric_page_name_is_sent_as_text():
    assert send({"type": "page", "userId": "u1", "name": 404}).body["name"] == "404"


def test_a_screen_is_a_viewed_screen_event():
    # given a screen call
    message = {"type": "screen", "userId": "u1", "event": "Home", "properties": {"from": "push"}}
    # when it is transformed
    body = send(message).body
    # then Customer.io gets an event "Viewed Home Screen"
    assert body == {"type": "event", "name": "Viewed Home Screen", "data": {"from": "push"}}


def test_a_screen_without_an_event_is_named_by_its_name_property():
    assert send({"type": "screen", "userId": "u1", "properties": {"name": "Cart"}}).body["name"] == (
        "Viewed Cart Screen"
    )


def test_a_segment_screen_is_named_by_its_top_level_name():
    # given a screen call as Segment's SDKs send it, with the name at the top level
    message = {"type": "screen", "userId": "u1", "name": "Checkout", "properties": {"step": 2}}
    # then Customer.io gets "Viewed Checkout Screen"
    assert send(message).body["name"] == "Viewed Checkout Screen"


def test_a_screen_without_a_name_is_refused():
    with pytest.raises(InstrumentationError, match="screen"):
        send({"type": "screen", "userId": "u1"})


def test_an_anonymous_screen_name_is_cut_inside_its_frame():
    # given an anonymous screen with a long name
    body = send({"type": "screen", "anonymousId": "a", "event": "s" * 120}).body
    # then "Viewed ... Screen" as a whole fits in 100 bytes
    assert body["name"] == "Viewed " + "s" * 86 + " Screen"
    assert len(body["name"].encode()) == MAX_EVENT_NAME_BYTES


def test_event_types_are_read_case_insensitively():
    assert send({"type": "TRACK", "userId": "u1", "event": "E"}).body["type"] == "event"

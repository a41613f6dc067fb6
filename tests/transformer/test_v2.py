"""apiVersion v2: every message type as a person or object item of POST /api/v2/batch."""

from __future__ import annotations

import pytest

from destinations.customerio import InstrumentationError
from tests.transformer.helpers import US, item, send

TIME = "2019-10-14T11:15:18.300Z"
SECONDS = 1571051718


def v2(message):
    return item(message, apiVersion="v2")


def test_every_v2_message_is_one_batch_item_declared_as_json():
    request = send({"type": "track", "userId": "u1", "event": "E"}, apiVersion="v2")
    assert (request.method, request.endpoint) == ("POST", f"{US}/api/v2/batch")
    assert request.headers["Content-Type"] == "application/json"
    assert request.is_batch


def test_identify_is_a_person_identify():
    # given an identify with traits, an anonymousId and a time
    message = {
        "type": "identify",
        "userId": "u1",
        "anonymousId": "a1",
        "timestamp": TIME,
        "traits": {"plan": "pro", "address": {"city": "Lyon"}, "createdAt": "2020-01-01"},
    }
    # when it is transformed in v2
    # then the attributes are those v1 would send
    assert v2(message) == {
        "type": "person",
        "action": "identify",
        "identifiers": {"id": "u1"},
        "attributes": {
            "plan": "pro",
            "city": "Lyon",
            "created_at": 1577836800,
            "_timestamp": SECONDS,
            "anonymous_id": "a1",
        },
    }


def test_identify_by_email():
    assert v2({"type": "identify", "traits": {"email": "a@b.co"}})["identifiers"] == {"email": "a@b.co"}


def test_an_anonymous_identify_is_refused():
    with pytest.raises(InstrumentationError, match="userId or email"):
        v2({"type": "identify", "anonymousId": "a1"})


def test_track_is_a_person_event():
    message = {
        "type": "track",
        "userId": "u1",
        "event": "Paid",
        "properties": {"total": 3},
        "timestamp": TIME,
    }
    assert v2(message) == {
        "type": "person",
        "action": "event",
        "identifiers": {"id": "u1"},
        "name": "Paid",
        "attributes": {"total": 3},
        "timestamp": SECONDS,
    }


def test_an_anonymous_event_is_identified_by_its_anonymous_id_and_keeps_its_name():
    body = v2({"type": "track", "anonymousId": "a1", "event": "x" * 120})
    assert (body["identifiers"], body["name"]) == ({"anonymous_id": "a1"}, "x" * 120)


def test_an_event_of_nobody_is_refused():
    with pytest.raises(InstrumentationError, match="userId, email or anonymousId"):
        v2({"type": "track", "event": "E"})


def test_page_is_a_person_page():
    message = {"type": "page", "userId": "u1", "properties": {"url": "https://x.io"}}
    assert v2(message) == {
        "type": "person",
        "action": "page",
        "identifiers": {"id": "u1"},
        "name": "https://x.io",
        "attributes": {"url": "https://x.io"},
    }


def test_a_page_without_a_name_is_refused():
    with pytest.raises(InstrumentationError, match=r"name or properties\.url"):
        v2({"type": "page", "userId": "u1"})


def test_screen_is_a_person_screen():
    assert v2({"type": "screen", "userId": "u1", "event": "Home"}) == {
        "type": "person",
        "action": "screen",
        "identifiers": {"id": "u1"},
        "name": "Viewed Home Screen",
        "attributes": {},
    }


def test_numeric_ids_pass_through_as_numbers():
    assert v2({"type": "track", "userId": 432, "event": "E"})["identifiers"] == {"id": 432}
    assert v2({"type": "track", "anonymousId": 987, "event": "E"})["identifiers"] == {"anonymous_id": 987}


def test_group_and_alias_and_devices_are_covered_with_their_types():
    # (test_group.py, test_alias.py and test_devices.py check their v2 items in full)
    assert v2({"type": "group", "groupId": "g", "userId": "u1"})["type"] == "object"
    assert v2({"type": "alias", "userId": "u1", "previousId": "u0"})["action"] == "merge"

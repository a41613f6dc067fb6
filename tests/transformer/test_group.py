"""group -> a Customer.io object, related to the person, through POST /api/v2/batch."""

from __future__ import annotations

import pytest

from destinations.customerio import InstrumentationError
from tests.transformer.helpers import US, item, send

GROUP = {"type": "group", "groupId": "acme", "userId": "u1", "traits": {"name": "Acme", "plan": "gold"}}


def test_a_group_is_an_object_related_to_the_user():
    # given a group call
    # when it is transformed
    request = send(GROUP)
    # then one object item goes to the batch endpoint, declared as JSON
    assert (request.method, request.endpoint) == ("POST", f"{US}/api/v2/batch")
    assert request.headers["Content-Type"] == "application/json"
    assert request.body == {
        "batch": [
            {
                "type": "object",
                "action": "identify",
                "identifiers": {"object_id": "acme", "object_type_id": "1"},
                "attributes": {"name": "Acme", "plan": "gold"},
                "cio_relationships": [{"identifiers": {"id": "u1"}}],
            }
        ]
    }


def test_the_object_type_comes_from_the_traits():
    # given a group of object type 3 (a number)
    body = item({**GROUP, "traits": {"objectTypeId": 3}})
    # then it is sent as text, as Customer.io's identifiers are
    assert body["identifiers"] == {"object_id": "acme", "object_type_id": "3"}


@pytest.mark.parametrize("action", ["identify", "delete", "add_relationships", "delete_relationships"])
def test_the_action_comes_from_the_traits(action):
    body = item({**GROUP, "traits": {"action": action, "name": "Acme"}})
    # the action is not an attribute of the object
    assert (body["action"], body["attributes"]) == (action, {"name": "Acme"})


def test_the_action_may_come_from_the_properties():
    assert item({**GROUP, "properties": {"action": "delete"}})["action"] == "delete"


@pytest.mark.parametrize("action", ["destroy", 3, None])
def test_an_unknown_action_is_identify(action):
    assert item({**GROUP, "traits": {"action": action}})["action"] == "identify"


def test_the_relationship_is_by_email_when_there_is_no_user_id():
    message = {"type": "group", "groupId": "acme", "context": {"traits": {"email": "ann@acme.io"}}}
    assert item(message)["cio_relationships"] == [{"identifiers": {"email": "ann@acme.io"}}]


def test_an_email_shaped_user_id_is_related_as_an_email():
    assert item({**GROUP, "userId": "ann@acme.io"})["cio_relationships"] == [
        {"identifiers": {"email": "ann@acme.io"}}
    ]


def test_the_group_s_own_email_trait_does_not_make_a_relationship():
    # The group's traits describe the group: its email is the company's, not the member's.
    message = {"type": "group", "groupId": "acme", "traits": {"email": "info@acme.io"}}
    assert item(message)["cio_relationships"] == []


def test_numeric_ids_are_sent_as_text():
    body = item({**GROUP, "groupId": 306, "userId": 432})
    assert body["identifiers"]["object_id"] == "306"
    assert body["cio_relationships"] == [{"identifiers": {"id": "432"}}]


def test_the_group_id_may_come_from_the_traits():
    assert (
        item({"type": "group", "userId": "u1", "traits": {"groupId": "g7"}})["identifiers"]["object_id"]
        == "g7"
    )


def test_a_group_without_a_group_id_is_refused():
    with pytest.raises(InstrumentationError, match="groupId"):
        send({"type": "group", "userId": "u1"})


@pytest.mark.parametrize("group_id", [{"id": 1}, ["a"], True])
def test_a_group_id_that_is_not_text_or_a_number_is_refused(group_id):
    with pytest.raises(InstrumentationError, match="groupId must be a string or a number"):
        send({**GROUP, "groupId": group_id})


def test_group_traits_that_are_not_an_object_are_refused():
    with pytest.raises(InstrumentationError, match="traits"):
        send({**GROUP, "traits": "gold"})


def test_v2_sends_the_same_object():
    assert item(GROUP, apiVersion="v2") == item(GROUP)

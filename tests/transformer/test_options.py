"""Destination settings beyond RudderStack's, each off unless turned on."""

from __future__ import annotations

import hashlib

import pytest

from destinations.customerio import (
    MAX_ATTRIBUTE_NAME_BYTES,
    MAX_ATTRIBUTE_VALUE_BYTES,
    MAX_ATTRIBUTES,
    MAX_ID_BYTES,
    InstrumentationError,
)
from tests.transformer.helpers import US, item, send

# --- convertToUnixTime -------------------------------------------------------------------------

DATES = {
    "signed_up": "2019-10-14T09:03:17.562Z",
    "renews": "2022-01-10T20:39:03.955123+05:30",
    "born": "1955-11-12",
    "nested": {"at": "2020-01-01T00:00:00-0800", "list": ["2000-01-01T00:00:00Z", "not a date"]},
    "bad_day": "2021-02-30",
    "version": "2021-1",
    "count": 3,
}
CONVERTED = {
    "signed_up": 1571043797,
    "renews": 1641827343,
    "born": -446169600,
    "nested": {"at": 1577865600, "list": [946684800, "not a date"]},
    "bad_day": "2021-02-30",
    "version": "2021-1",
    "count": 3,
}


def test_dates_in_traits_become_unix_seconds_when_turned_on():
    # given a destination converting dates, and traits holding ISO-8601 strings at any depth
    # when an identify is transformed
    body = send({"type": "identify", "userId": "u1", "traits": DATES}, convertToUnixTime=True).body
    # then every date is unix seconds (offsets, long fractions and dates before 1970 included),
    # and strings that are not real dates are left alone
    assert body == CONVERTED


def test_dates_in_properties_become_unix_seconds_when_turned_on():
    message = {"type": "track", "userId": "u1", "event": "E", "properties": DATES}
    assert send(message, convertToUnixTime=True).body["data"] == CONVERTED
    assert item(message, convertToUnixTime=True, apiVersion="v2")["attributes"] == CONVERTED


def test_dates_in_group_traits_become_unix_seconds_when_turned_on():
    message = {"type": "group", "groupId": "g", "traits": {"since": "2000-01-01T00:00:00Z"}}
    assert item(message, convertToUnixTime=True)["attributes"] == {"since": 946684800}


def test_dates_stay_text_when_turned_off():
    message = {"type": "track", "userId": "u1", "event": "E", "properties": DATES}
    assert send(message).body["data"] == DATES
    assert send({"type": "identify", "userId": "u1", "traits": DATES}).body == DATES


def test_converting_does_not_modify_the_message():
    properties = {"at": "2000-01-01T00:00:00Z"}
    send({"type": "track", "userId": "u1", "event": "E", "properties": properties}, convertToUnixTime=True)
    assert properties == {"at": "2000-01-01T00:00:00Z"}


# --- cioIdentifiers ----------------------------------------------------------------------------


def test_a_cio_user_id_addresses_the_person_by_cio_id_in_v2():
    # given a userId naming a Customer.io cio_id, to change the person's id and email
    message = {"type": "identify", "userId": "cio_03000001", "traits": {"id": "new-id", "email": "n@x.io"}}
    # when it is transformed with cio identifiers on
    body = item(message, cioIdentifiers=True, apiVersion="v2")
    # then the person is found by cio_id and the new id and email are attributes
    assert body["identifiers"] == {"cio_id": "03000001"}
    assert body["attributes"] == {"id": "new-id", "email": "n@x.io"}


def test_a_cio_user_id_keeps_the_cio_prefix_in_a_v1_path():
    # Customer.io's v1 paths read "cio_<id>" as a cio_id, so the path is the same either way.
    message = {"type": "identify", "userId": "cio_03000001", "traits": {"email": "n@x.io"}}
    request = send(message, cioIdentifiers=True)
    assert request.endpoint == f"{US}/api/v1/customers/cio_03000001"
    assert request.body == {"email": "n@x.io"}


def test_an_email_shaped_user_id_is_sent_as_an_email():
    # given a userId that is an email address
    message = {"type": "identify", "userId": "ann@x.io", "traits": {"plan": "pro"}}
    # when it is transformed with cio identifiers on
    # then it is the person's email, in v2 identifiers and as a v1 attribute
    assert item(message, cioIdentifiers=True, apiVersion="v2")["identifiers"] == {"email": "ann@x.io"}
    assert send(message, cioIdentifiers=True).body == {"plan": "pro", "email": "ann@x.io"}


def test_cio_identifiers_apply_to_merges_and_relationships():
    alias = {"type": "alias", "userId": "cio_1", "previousId": "cio_2"}
    assert send(alias, cioIdentifiers=True).body == {"primary": {"cio_id": "1"}, "secondary": {"cio_id": "2"}}
    group = {"type": "group", "groupId": "g", "userId": "cio_9"}
    assert item(group, cioIdentifiers=True)["cio_relationships"] == [{"identifiers": {"cio_id": "9"}}]


def test_without_cio_identifiers_a_user_id_is_always_an_id():
    message = {"type": "identify", "userId": "cio_03000001"}
    assert item(message, apiVersion="v2")["identifiers"] == {"id": "cio_03000001"}
    assert item({"type": "identify", "userId": "ann@x.io"}, apiVersion="v2")["identifiers"] == {
        "id": "ann@x.io"
    }
    assert send({"type": "identify", "userId": "ann@x.io"}).body == {}


def test_a_bare_cio_prefix_is_an_id():
    assert item({"type": "identify", "userId": "cio_"}, cioIdentifiers=True, apiVersion="v2")[
        "identifiers"
    ] == {"id": "cio_"}


# --- deduplicationIds --------------------------------------------------------------------------

CROCKFORD = set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
EVENT = {
    "type": "track",
    "userId": "u1",
    "event": "E",
    "messageId": "m-1",
    "timestamp": "2019-10-14T11:15:18.300Z",
}


def ulid_value(ulid: str) -> int:
    return int("".join(format("0123456789ABCDEFGHJKMNPQRSTVWXYZ".index(c), "05b") for c in ulid), 2)


def test_events_carry_a_ulid_when_turned_on():
    # given an event with a messageId and a time
    # when it is transformed with de-duplication ids on
    body = send(EVENT, deduplicationIds=True).body
    # then it carries a ULID: the event's time in milliseconds, then 80 bits of SHA-256(messageId)
    ulid = body["id"]
    assert len(ulid) == 26 and set(ulid) <= CROCKFORD and ulid[0] <= "7"
    digest = int.from_bytes(hashlib.sha256(b"m-1").digest()[:10], "big")
    assert ulid_value(ulid) == 1571051718300 << 80 | digest


def test_a_replayed_event_gets_the_same_id_and_another_event_another():
    first = send(EVENT, deduplicationIds=True).body["id"]
    assert send(dict(EVENT), deduplicationIds=True).body["id"] == first
    assert send({**EVENT, "messageId": "m-2"}, deduplicationIds=True).body["id"] != first
    assert send({**EVENT, "timestamp": "2019-10-14T11:15:18.301Z"}, deduplicationIds=True).body["id"] != first


@pytest.mark.parametrize(
    "message",
    [
        {**EVENT, "type": "page", "name": "Home"},
        {**EVENT, "type": "screen"},
        {**EVENT, "userId": None, "anonymousId": "a1"},
    ],
    ids=["page", "screen", "anonymous"],
)
def test_every_kind_of_event_carries_the_id(message):
    assert "id" in send(message, deduplicationIds=True).body
    assert "id" in item(message, deduplicationIds=True, apiVersion="v2")


def test_no_id_without_a_message_id_or_a_time():
    assert "id" not in send({**EVENT, "messageId": None}, deduplicationIds=True).body
    assert "id" not in send({**EVENT, "timestamp": None}, deduplicationIds=True).body


def test_no_id_when_turned_off():
    assert "id" not in send(EVENT).body
    assert "id" not in item(EVENT, apiVersion="v2")


def test_people_are_not_given_event_ids():
    # An identify's "id" attribute would rename the person: it must never be a ULID.
    message = {"type": "identify", "userId": "u1", "messageId": "m-1", "timestamp": "2020-01-01"}
    assert "id" not in send(message, deduplicationIds=True).body


# --- checkLimits -------------------------------------------------------------------------------


def test_an_id_over_150_bytes_is_refused_by_name_when_turned_on():
    # given a userId of 151 bytes
    message = {"type": "track", "userId": "u" * (MAX_ID_BYTES + 1), "event": "E"}
    # when it is transformed with limits checked
    # then the error names the field and the limit
    with pytest.raises(InstrumentationError, match=r"userId is 151 bytes.*150 bytes"):
        send(message, checkLimits=True)
    # and without the check it is sent
    assert send(message).body["name"] == "E"


def test_an_id_of_150_bytes_is_accepted():
    assert send({"type": "track", "userId": "é" * 75, "event": "E"}, checkLimits=True)


@pytest.mark.parametrize(
    "message",
    [
        {"type": "track", "anonymousId": "a" * 151, "event": "E"},
        {"type": "group", "groupId": "g" * 151},
        {"type": "alias", "userId": "u1", "previousId": "p" * 151},
        {"type": "identify", "traits": {"email": "e" * 150 + "@x.io"}},
    ],
    ids=["anonymousId", "groupId", "previousId", "traits.email"],
)
def test_every_identifier_is_checked(message, request):
    with pytest.raises(InstrumentationError, match=rf"{request.node.callspec.id}\b"):
        send(message, checkLimits=True)


def test_an_attribute_name_over_150_bytes_is_refused_by_name():
    name = "n" * (MAX_ATTRIBUTE_NAME_BYTES + 1)
    with pytest.raises(InstrumentationError, match=rf"traits\.{name}: the attribute name"):
        send({"type": "identify", "userId": "u1", "traits": {name: 1}}, checkLimits=True)


@pytest.mark.parametrize(
    "value",
    ["v" * (MAX_ATTRIBUTE_VALUE_BYTES + 1), "é" * 501, {"nested": "v" * 990}],
    ids=["ascii", "two-byte characters", "nested object"],
)
def test_an_attribute_value_over_1000_bytes_is_refused_by_name(value):
    with pytest.raises(InstrumentationError, match=r"traits\.plan is \d+ bytes.*1000 bytes"):
        send({"type": "identify", "userId": "u1", "traits": {"plan": value}}, checkLimits=True)


def test_user_properties_are_checked_under_their_own_name():
    with pytest.raises(InstrumentationError, match=r"user_properties\.plan"):
        send({"type": "identify", "userId": "u1", "user_properties": {"plan": "v" * 1001}}, checkLimits=True)


def test_an_attribute_value_of_1000_bytes_is_accepted():
    assert send({"type": "identify", "userId": "u1", "traits": {"plan": "v" * 1000}}, checkLimits=True)


def test_more_than_300_attributes_are_refused():
    traits = {f"a{n}": n for n in range(MAX_ATTRIBUTES + 1)}
    with pytest.raises(InstrumentationError, match=r"301 attributes.*300"):
        send({"type": "identify", "userId": "u1", "traits": traits}, checkLimits=True)
    with pytest.raises(InstrumentationError, match="301 attributes"):
        send({"type": "group", "groupId": "g", "traits": traits}, checkLimits=True)


def test_300_attributes_are_accepted():
    traits = {f"a{n}": n for n in range(MAX_ATTRIBUTES)}
    assert len(send({"type": "identify", "userId": "u1", "traits": traits}, checkLimits=True).body) == 300


def test_limits_are_not_checked_when_turned_off():
    traits = {"n" * 200: "v" * 2000, **{f"a{n}": n for n in range(400)}}
    assert len(send({"type": "identify", "userId": "u1", "traits": traits}).body) == 401

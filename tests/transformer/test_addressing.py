"""Where requests go: the data center's host, percent-encoded ids, credentials, and event times."""

from __future__ import annotations

import pytest

from destinations.customerio import transform
from tests.transformer.helpers import AUTHORIZATION, EU, US, config, send

EVERY_TYPE = {
    "identify": {"type": "identify", "userId": "u1", "traits": {"a": 1}},
    "track": {"type": "track", "userId": "u1", "event": "E"},
    "anonymous track": {"type": "track", "anonymousId": "a1", "event": "E"},
    "page": {"type": "page", "userId": "u1", "name": "Home"},
    "screen": {"type": "screen", "userId": "u1", "event": "Home"},
    "group": {"type": "group", "userId": "u1", "groupId": "g1"},
    "alias": {"type": "alias", "userId": "u1", "previousId": "u0"},
    "device": {
        "type": "track",
        "userId": "u1",
        "event": "Application Opened",
        "context": {"device": {"token": "t"}},
    },
    "device delete": {
        "type": "track",
        "userId": "u1",
        "event": "Application Uninstalled",
        "context": {"device": {"token": "t"}},
    },
}


@pytest.mark.parametrize("api_version", ["v1", "v2"])
@pytest.mark.parametrize("message", EVERY_TYPE.values(), ids=EVERY_TYPE.keys())
def test_an_eu_destination_sends_every_request_to_the_eu_host(message, api_version):
    # given a destination in Customer.io's EU data center
    # when any message is transformed
    request = send(message, datacenter="EU", apiVersion=api_version)
    # then it goes to the EU host
    assert request.endpoint.startswith(EU + "/api/")


@pytest.mark.parametrize("message", EVERY_TYPE.values(), ids=EVERY_TYPE.keys())
def test_a_us_destination_sends_every_request_to_the_us_host(message):
    assert send(message, datacenter="US").endpoint.startswith(US + "/api/")


@pytest.mark.parametrize("message", EVERY_TYPE.values(), ids=EVERY_TYPE.keys())
def test_every_request_authenticates_with_the_site_id_and_api_key(message):
    assert send(message).headers["Authorization"] == AUTHORIZATION


@pytest.mark.parametrize(
    ("user_id", "segment"),
    [
        ("user/with/slashes", "user%2Fwith%2Fslashes"),
        ("ann@example.com", "ann%40example.com"),
        ("José Müller", "Jos%C3%A9%20M%C3%BCller"),
        ("用户", "%E7%94%A8%E6%88%B7"),
        ("a?b#c&d=e%f", "a%3Fb%23c%26d%3De%25f"),
        ("keep-_.!~*'()", "keep-_.!~*'()"),
        (12345, "12345"),
    ],
)
def test_ids_are_percent_encoded_in_paths(user_id, segment):
    # given a userId with characters a URL path cannot hold as they are
    # when it is transformed
    request = send({"type": "track", "userId": user_id, "event": "E"})
    # then it is one path segment, encoded as JavaScript's encodeURIComponent does
    assert request.endpoint == f"{US}/api/v1/customers/{segment}/events"


def test_an_id_in_a_batch_item_is_not_encoded():
    request = send({"type": "track", "userId": "user/with/slashes", "event": "E"}, apiVersion="v2")
    assert request.body["batch"][0]["identifiers"] == {"id": "user/with/slashes"}


@pytest.mark.parametrize(
    ("timestamp", "seconds"),
    [
        ("2019-10-14T11:15:18.300Z", 1571051718),
        ("2022-01-10T20:39:03.955+05:30", 1641827343),
        ("2022-01-10T05:39:03-0930", 1641827343),
        ("2022-01-10T15:09:03.955123456Z", 1641827343),
        ("2022-01-10T15:09:03Z", 1641827343),
        ("2022-01-10T15:09Z", 1641827340),
        ("2022-01-10T15:09:03", 1641827343),
        ("2022-01-10", 1641772800),
        ("1965-03-01T12:00:00Z", -152625600),
    ],
)
def test_event_times_are_unix_seconds_honouring_offsets(timestamp, seconds):
    body = send({"type": "track", "userId": "u1", "event": "E", "timestamp": timestamp}).body
    assert body["timestamp"] == seconds


def test_the_original_timestamp_is_the_fallback():
    # given a message whose timestamp is empty and whose originalTimestamp is set
    message = {
        "type": "track",
        "userId": "u1",
        "event": "E",
        "timestamp": "",
        "originalTimestamp": "2000-01-01",
    }
    # when it is transformed
    # then the originalTimestamp is the event's time
    assert send(message).body["timestamp"] == 946684800


def test_the_timestamp_wins_over_the_original_timestamp():
    message = {
        "type": "track",
        "userId": "u1",
        "event": "E",
        "timestamp": "2001-01-01",
        "originalTimestamp": "2000",
    }
    assert send(message).body["timestamp"] == 978307200


@pytest.mark.parametrize(
    ("timestamp", "shown"),
    [
        ("yesterday", "'yesterday'"),
        ("2022-13-01T00:00:00Z", "'2022-13-01T00:00:00Z'"),
        ("2022-01-10T25:00:00Z", "'2022-01-10T25:00:00Z'"),
        (True, "True"),
        ({"t": 1}, "a JSON object"),
    ],
)
def test_a_time_that_is_not_a_date_is_left_out_and_said_so(timestamp, shown):
    # given an event whose time no reader can read
    # when it is transformed
    request = send({"type": "track", "userId": "u1", "event": "E", "originalTimestamp": timestamp})
    # then it is still sent, without a time (Customer.io uses the time it receives it), and says why
    assert request.body == {"type": "event", "name": "E"}
    assert request.notes == (f"originalTimestamp {shown} is not a date, so it was left out of the request",)


def test_an_unreadable_timestamp_gives_way_to_the_original_timestamp():
    message = {
        "type": "track",
        "userId": "u1",
        "event": "E",
        "timestamp": "soon",
        "originalTimestamp": "2000-01-01",
    }
    request = send(message)
    assert request.body["timestamp"] == 946684800
    assert request.notes == ("timestamp 'soon' is not a date, so it was left out of the request",)


def test_the_transformer_never_takes_a_host_from_the_message_or_the_config():
    # given a message and a config that both name another host
    message = {"type": "track", "userId": "u1", "event": "E", "context": {"endpoint": "https://evil.example"}}
    settings = config(trackUrl="https://evil.example", CIO_TRACK_URL_US="https://evil.example")
    # when it is transformed
    [request] = transform(message, settings)
    # then the request still goes to Customer.io's canonical host
    assert request.endpoint.startswith(US + "/")

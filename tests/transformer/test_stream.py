"""transform_stream: one destination's stream in; what to send, then what failed, out."""

from __future__ import annotations

import pytest

from destinations.customerio import ConfigurationError, StreamResult, person_key, transform_stream
from tests.transformer.helpers import config


def test_requests_come_in_sending_order_then_failures_in_input_order():
    # given a stream mixing v1 requests, groups and bad messages
    messages = [
        {"type": "group", "groupId": "g0", "userId": "u1"},
        {"type": "track"},
        {"type": "track", "userId": "u2", "event": "E"},
        "not a message",
        {"type": "identify", "userId": "u1"},
        {"type": "group", "groupId": "g1", "userId": "u3"},
    ]
    # when it is transformed
    results = transform_stream(messages, config()).results()
    # then u2's track goes first, u1's group batch before u1's identify, and the failures last
    assert [result.messages for result in results] == [[2], [0], [4], [5], [1], [3]]
    assert [result.error is None for result in results] == [True, True, True, True, False, False]


def test_everything_is_one_batch_in_v2_when_it_fits():
    messages = [{"type": "track", "userId": f"u{n}", "event": "E"} for n in range(5)]
    [result] = transform_stream(messages, config(apiVersion="v2")).results()
    assert result.messages == [0, 1, 2, 3, 4]
    assert len(result.request.body["batch"]) == 5


def test_a_bad_config_fails_every_message_as_a_configuration_error():
    results = transform_stream([{"type": "track"}, {"type": "identify"}], {"siteID": "s"}).results()
    assert [result.messages for result in results] == [[0], [1]]
    assert all(isinstance(result.error, ConfigurationError) for result in results)


def test_a_result_holds_a_request_or_an_error():
    with pytest.raises(ValueError, match="exactly one"):
        StreamResult([0])
    [result] = transform_stream([{"type": "track", "userId": "u", "event": "E"}], config()).results()
    assert result.to_dict()["request"]["method"] == "POST"


def test_a_mapping_s_keys_are_the_refs_and_each_message_keeps_its_own_requests():
    # given the engine's view of a claim: delivery ids to messages, one of which the transformer refuses
    messages = {
        41: {"type": "group", "groupId": "g0", "userId": "u1"},
        42: {"type": "track"},
        43: {"type": "group", "groupId": "g1", "userId": "u2"},
    }
    # when the stream is transformed
    stream = transform_stream(messages, config())
    # then the refs are the keys, each good message keeps the request made for it, and the batch
    # says which message each of its items came from
    assert list(stream.requests) == [41, 43] and list(stream.failed) == [42]
    assert [len(requests) for requests in stream.requests.values()] == [1, 1]
    [combined] = stream.sent
    assert combined.refs == combined.item_refs == [41, 43]
    ids = [item["identifiers"]["object_id"] for item in combined.request.body["batch"]]
    assert ids == ["g0", "g1"]


def test_the_person_rule_is_the_one_validation_uses():
    # given a blank userId beside an anonymousId, which the ingestion API accepts
    # then the person is the anonymousId, for the stored deliveries and the combined batches alike
    assert person_key({"userId": "  ", "anonymousId": "a"}) == "a"
    assert person_key({"userId": 306, "anonymousId": "a"}) == "306"
    assert person_key({"userId": True, "anonymousId": ""}) == ""

"""Messages that are wrong fail alone, as instrumentation errors naming what is wrong."""

from __future__ import annotations

import pytest

from destinations.customerio import (
    MAX_ITEM_BYTES,
    InstrumentationError,
    TransformError,
    encode_json,
    transform,
)
from tests.transformer.helpers import US, config, item, send


@pytest.mark.parametrize("message", [None, 42, "identify", ["type", "track"], True])
def test_a_message_that_is_not_an_object_is_refused(message):
    with pytest.raises(InstrumentationError, match="message must be a JSON object"):
        transform(message, config())


@pytest.mark.parametrize("kind", [None, 7, ["track"]])
def test_a_message_without_a_type_is_refused(kind):
    with pytest.raises(InstrumentationError, match="type is required"):
        send({"type": kind, "userId": "u1"})


def test_an_unknown_type_is_refused_by_name():
    with pytest.raises(InstrumentationError, match="'reset' is not a message type"):
        send({"type": "reset", "userId": "u1"})


@pytest.mark.parametrize("field", ["userId", "anonymousId"])
@pytest.mark.parametrize("value", [True, {"id": 1}, ["u1"]])
def test_an_id_that_is_not_text_or_a_number_is_refused_by_name(field, value):
    with pytest.raises(InstrumentationError, match=f"{field} must be a string or a number"):
        send({"type": "track", "event": "E", field: value})


def test_a_device_token_that_is_not_text_or_a_number_is_refused_by_name():
    message = {
        "type": "track",
        "userId": "u1",
        "event": "Application Opened",
        "context": {"device": {"token": {}}},
    }
    with pytest.raises(InstrumentationError, match=r"context\.device\.token"):
        send(message)


@pytest.mark.parametrize("api_version", ["v1", "v2"])
def test_numbers_where_strings_are_expected_are_sent_as_numbers_or_text(api_version):
    # given a track call whose userId is a number
    request = send({"type": "track", "userId": 123, "event": "E"}, apiVersion=api_version)
    # then v1 puts it in the path as text, v2 keeps the number
    if api_version == "v1":
        assert request.endpoint == f"{US}/api/v1/customers/123/events"
    else:
        assert request.body["batch"][0]["identifiers"] == {"id": 123}


def test_a_float_id_reads_as_javascript_would():
    assert send({"type": "track", "userId": 5.0, "event": "E"}).endpoint == f"{US}/api/v1/customers/5/events"


def test_unicode_ids_are_sent_as_given():
    assert item({"type": "track", "userId": "ユーザー😀", "event": "E"}, apiVersion="v2")["identifiers"] == {
        "id": "ユーザー😀"
    }


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ({"type": "track", "userId": "u\ud800", "event": "E"}, "userId"),
        ({"type": "track", "anonymousId": "a", "event": "E\udcff"}, "event"),
        ({"type": "track", "userId": "u1", "event": "E", "properties": {"x": "\ud800"}}, "message"),
    ],
)
def test_text_that_is_not_valid_unicode_is_refused(message, field):
    # Such text (a lone surrogate) can come from bytes that were not UTF-8, and no JSON body carries it.
    with pytest.raises(InstrumentationError, match=field):
        send(message)


@pytest.mark.parametrize("api_version", ["v1", "v2"])
@pytest.mark.parametrize("check_limits", [False, True])
def test_a_request_over_32_kb_is_refused_naming_the_limit(api_version, check_limits):
    # given an event whose properties make it larger than Customer.io takes in one request or item
    message = {"type": "track", "userId": "u1", "event": "E", "properties": {"blob": "x" * MAX_ITEM_BYTES}}
    # when it is transformed, whether limits are checked or not
    with pytest.raises(InstrumentationError, match="32 KB") as failure:
        send(message, apiVersion=api_version, checkLimits=check_limits)
    # then it is an instrumentation error of its own, naming the size
    assert str(MAX_ITEM_BYTES) in failure.value.message


def test_a_group_over_32_kb_is_refused():
    with pytest.raises(InstrumentationError, match="32 KB"):
        send({"type": "group", "groupId": "g", "traits": {"blob": "é" * (MAX_ITEM_BYTES // 2)}})


def test_a_request_of_exactly_32_kb_is_sent_and_one_byte_more_is_not():
    # given an event whose body is exactly 32 KB of JSON
    overhead = len(encode_json({"type": "event", "data": {"blob": ""}, "name": "E"}))
    message = {
        "type": "track",
        "userId": "u1",
        "event": "E",
        "properties": {"blob": "x" * (MAX_ITEM_BYTES - overhead)},
    }
    # when it is transformed
    request = send(message)
    # then it goes out
    assert len(encode_json(request.body)) == MAX_ITEM_BYTES
    # and one byte more does not
    message["properties"]["blob"] += "x"
    with pytest.raises(InstrumentationError, match="32 KB"):
        send(message)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), object()])
def test_values_json_cannot_carry_are_refused(value):
    # NaN or a Python object cannot come from JSON text, but a Python caller could pass one.
    with pytest.raises(InstrumentationError, match="not JSON"):
        send({"type": "track", "userId": "u1", "event": "E", "properties": {"x": value}})


def test_an_id_too_large_to_be_one_is_refused():
    with pytest.raises(InstrumentationError, match="userId is too large"):
        send({"type": "track", "userId": 10**5000, "event": "E"})


def test_a_message_nested_too_deeply_is_refused():
    deep: dict = {}
    for _ in range(5000):
        deep = {"d": deep}
    with pytest.raises(InstrumentationError, match="nested too deeply"):
        send({"type": "track", "userId": "u1", "event": "E", "properties": deep}, convertToUnixTime=True)
    with pytest.raises(InstrumentationError, match="nested too deeply"):
        send({"type": "track", "userId": "u1", "event": "E", "properties": deep})


def test_errors_are_transform_errors_with_a_kind():
    with pytest.raises(TransformError) as failure:
        send({"type": "track"})
    assert failure.value.kind == "instrumentation"
    assert failure.value.to_dict() == {"message": failure.value.message, "kind": "instrumentation"}

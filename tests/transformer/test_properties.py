"""What must hold for every message of every type, whatever its values: generated, not hand-picked.

- the only exception is a typed TransformError;
- every request is within Customer.io's limits (32 KB a request or batch item; 500,000 bytes and 1,000
  items a batch; 100 bytes for an anonymous event's name; with checkLimits, 150 bytes an identifier);
- every path segment is percent-encoded, and none is "." or "..";
- the same message always gives the same request, alone or in a stream.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from destinations.customerio import (
    HOSTS,
    MAX_BATCH_BYTES,
    MAX_BATCH_ITEMS,
    MAX_EVENT_NAME_BYTES,
    MAX_ID_BYTES,
    MAX_ITEM_BYTES,
    TransformError,
    encode_json,
    transform,
    transform_stream,
)
from tests.transformer.helpers import config

# What encodeURIComponent leaves as it is; anything else in a segment must be a %XX escape.
ENCODED_SEGMENT = re.compile(r"(?:[A-Za-z0-9\-_.!~*'()]|%[0-9A-F]{2})+")

texts = st.text(max_size=40) | st.sampled_from(["", " ", "u/1", "..", ".", "a@b.co", "a@b.c", "cio_7", "é ü"])
ids = texts | st.integers(min_value=-(10**20), max_value=10**20) | st.sampled_from(["x" * 200, "ann"])
dates = st.sampled_from(
    [
        "2024-05-01T12:30:15Z",
        "2024-05-01 12:30:15",
        "2024/05/01",
        "05/01/2024",
        "Wed, 01 May 2024 12:30:15 GMT",
        "Wed May 01 2024 12:30:15 GMT+0200 (Central European Summer Time)",
        "2024-05-01 12:30:15+00",
        "May 1, 2024 1:30 PM",
        "2024-04-30T24:00:00Z",
        "2024",
        "1714566615",
        "2024-02-30",
        "yesterday",
        "",
    ]
) | st.integers(min_value=-(10**14), max_value=10**14)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | texts
values = st.recursive(
    scalars | dates,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=8,
)
objects = st.dictionaries(
    texts | st.sampled_from(["email", "createdAt", "address", "id", "action"]), values, max_size=5
)
big_objects = objects | st.builds(lambda size: {"blob": "x" * size}, st.integers(0, 40_000))
common = {
    "userId": ids,
    "anonymousId": ids,
    "messageId": texts,
    "timestamp": dates,
    "originalTimestamp": dates,
    "context": st.fixed_dictionaries(
        {},
        optional={
            "traits": objects,
            "device": st.fixed_dictionaries(
                {}, optional={"token": ids, "type": st.sampled_from(["ios", "android"])}
            ),
        },
    ),
}
without_user_id = {key: value for key, value in common.items() if key != "userId"}
spec_messages = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("identify"), "userId": ids},
        optional={**without_user_id, "traits": big_objects, "user_properties": objects},
    ),
    st.fixed_dictionaries(
        {"type": st.just("track"), "event": texts | st.sampled_from(["Application Installed", "E" * 300])},
        optional={**common, "properties": big_objects},
    ),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["page", "screen"])},
        optional={**common, "name": texts, "properties": objects},
    ),
    st.fixed_dictionaries({"type": st.just("group"), "groupId": ids}, optional={**common, "traits": objects}),
    st.fixed_dictionaries({"type": st.just("alias"), "previousId": ids}, optional=common),
)
record_identifiers = st.fixed_dictionaries(
    {"id": ids | st.sampled_from(["row-1", "row-2"])},
    optional={
        key: ids | dates for key in ("cio_id", "email", "object_id", "object_type_id", "name", "created_at")
    },
)
records = st.fixed_dictionaries(
    {
        "type": st.just("record"),
        "action": st.sampled_from(["insert", "update", "delete", "insert", "update", "upsert"]),
        "identifiers": record_identifiers,
    },
    optional={
        "object": st.sampled_from(["person", "event", "object", "account"]),
        # RudderStack's way of saying what the rows are
        "connection": st.sampled_from(["person", "event", "object", "account", None]).map(
            lambda kind: {"config": {"destination": {"object": kind, "syncMode": "mirror"}}}
        )
        | values,
        "event": texts,
        "messageId": texts,
        "fields": big_objects,
        "relationships": st.lists(
            st.dictionaries(st.sampled_from(["id", "email", "x"]), ids, max_size=2), max_size=3
        ),
    },
)
messages = spec_messages | records
configs = st.builds(
    config,
    apiVersion=st.sampled_from(["v1", "v2"]),
    datacenter=st.sampled_from(["US", "EU"]),
    convertToUnixTime=st.booleans(),
    cioIdentifiers=st.booleans(),
    deduplicationIds=st.booleans(),
    checkLimits=st.booleans(),
)
PROPERTY_SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_sendable(request, settings_) -> None:
    url = urlsplit(request.endpoint)
    assert f"{url.scheme}://{url.netloc}" in HOSTS.values()
    for segment in url.path.split("/")[1:]:
        assert ENCODED_SEGMENT.fullmatch(segment), segment
        assert unquote(segment) not in (".", "..")
    if request.is_batch:
        items = request.body["batch"]
        assert len(encode_json(request.body)) <= MAX_BATCH_BYTES and len(items) <= MAX_BATCH_ITEMS
        assert all(len(encode_json(item)) <= MAX_ITEM_BYTES for item in items)
    elif request.body is not None:
        assert len(encode_json(request.body)) <= MAX_ITEM_BYTES
        if url.path == "/api/v1/events":
            assert len(request.body["name"].encode()) <= MAX_EVENT_NAME_BYTES
    if settings_.get("checkLimits") and not request.is_batch and url.path.startswith("/api/v1/customers/"):
        assert len(unquote(url.path.split("/")[4]).encode()) <= MAX_ID_BYTES + len("cio_")


@PROPERTY_SETTINGS
@given(message=messages, settings_=configs)
def test_every_message_gives_sendable_requests_or_a_typed_error(message, settings_):
    try:
        requests = transform(message, settings_)
    except TransformError as error:
        assert error.message and error.kind in ("instrumentation", "configuration")
        return
    assert requests
    for request in requests:
        assert_sendable(request, settings_)


@PROPERTY_SETTINGS
@given(message=messages, settings_=configs)
def test_the_same_message_always_gives_the_same_request(message, settings_):
    def outcome():
        try:
            return [request.to_dict() for request in transform(message, settings_)]
        except TransformError as error:
            return error.to_dict()

    assert outcome() == outcome()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=st.lists(messages, max_size=12), settings_=configs)
def test_a_stream_is_combined_within_the_limits_and_the_same_every_time(stream, settings_):
    first = transform_stream(stream, settings_)
    again = transform_stream(stream, settings_)
    assert [result.to_dict() for result in first.results()] == [
        result.to_dict() for result in again.results()
    ]
    for combined in first.sent:
        assert_sendable(combined.request, settings_)
    # every message is either sent or failed, exactly once
    carried = sorted(ref for combined in first.sent for ref in combined.refs)
    sent_refs = sorted(ref for ref, requests in first.requests.items() for _ in requests)
    assert carried == sent_refs and not set(first.requests) & set(first.failed)
    assert set(first.requests) | set(first.failed) == set(range(len(stream)))

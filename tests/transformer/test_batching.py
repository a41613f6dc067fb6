"""combine: batch items merge into requests within Customer.io's limits, and each person's order holds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from destinations.customerio import (
    MAX_BATCH_BYTES,
    MAX_BATCH_ITEMS,
    MAX_ITEM_BYTES,
    Combined,
    OutgoingRequest,
    combine,
    encode_json,
    transform,
    transform_stream,
)
from tests.transformer.helpers import US, config

BATCH_URL = f"{US}/api/v2/batch"
HEADERS = {"Authorization": "Basic a", "Content-Type": "application/json"}


def batched(item, endpoint=BATCH_URL, headers=HEADERS) -> OutgoingRequest:
    return OutgoingRequest("POST", endpoint, dict(headers), {"batch": [item]})


def single(name) -> OutgoingRequest:
    return OutgoingRequest(
        "POST", f"{US}/api/v1/customers/x/events", {"Authorization": "Basic a"}, {"name": name}
    )


def group(group_id, user_id="u1", **traits):
    [request] = transform(
        {"type": "group", "groupId": group_id, "userId": user_id, "traits": traits}, config()
    )
    return request


def test_batch_items_merge_into_one_request_in_input_order():
    # given three groups of two people
    entries = [(0, "u1", group("g0")), (1, "u2", group("g1", "u2")), (2, "u1", group("g2"))]
    # when they are combined
    [combined] = combine(entries)
    request = combined.request
    # then one batch carries all three, in order, and says whose each item is
    assert combined.refs == combined.item_refs == [0, 1, 2]
    assert [item["identifiers"]["object_id"] for item in request.body["batch"]] == ["g0", "g1", "g2"]
    assert (request.method, request.endpoint, request.headers) == ("POST", BATCH_URL, entries[0][2].headers)


def test_requests_that_are_not_batches_pass_through_unchanged():
    request = single("E")
    assert combine([("a", "u1", request)]) == [Combined(request, ["a"])]
    assert combine([("a", "u1", request)])[0].request is request


def test_batches_for_other_credentials_or_hosts_do_not_merge():
    entries = [
        (0, "u1", batched({"n": 0})),
        (1, "u2", batched({"n": 1}, headers={**HEADERS, "Authorization": "Basic b"})),
        (2, "u3", batched({"n": 2}, endpoint="https://track-eu.customer.io/api/v2/batch")),
        (3, "u4", batched({"n": 3})),
    ]
    assert [combined.refs for combined in combine(entries)] == [[0, 3], [1], [2]]


def test_a_batch_holds_at_most_1000_items():
    # given 2001 small items
    entries = [(n, f"p{n}", batched({"n": n})) for n in range(2 * MAX_BATCH_ITEMS + 1)]
    # when they are combined
    sent = combine(entries)
    # then they go out as 1000 + 1000 + 1, in order
    assert [len(combined.request.body["batch"]) for combined in sent] == [MAX_BATCH_ITEMS, MAX_BATCH_ITEMS, 1]
    assert [ref for combined in sent for ref in combined.refs] == list(range(2 * MAX_BATCH_ITEMS + 1))


def test_a_batch_holds_at_most_500_kb():
    # given 40 items of about 30 KB each, 1.2 MB in all
    entries = [(n, f"p{n}", batched({"blob": "x" * 30_000})) for n in range(40)]
    # when they are combined
    sent = combine(entries)
    # then no body is over 500 KB, and each is as full as the limit allows
    sizes = [len(encode_json(combined.request.body)) for combined in sent]
    assert all(size <= MAX_BATCH_BYTES for size in sizes)
    assert all(size + 30_011 > MAX_BATCH_BYTES for size in sizes[:-1])
    assert sum(len(combined.request.body["batch"]) for combined in sent) == 40


def test_an_item_over_32_kb_is_refused_alone_and_the_others_are_batched():
    # given a stream of groups, one of them too large for Customer.io
    messages = [
        {"type": "group", "groupId": "g0", "userId": "u1"},
        {"type": "group", "groupId": "big", "userId": "u2", "traits": {"blob": "x" * MAX_ITEM_BYTES}},
        {"type": "group", "groupId": "g2", "userId": "u3"},
    ]
    # when the stream is transformed
    results = transform_stream(messages, config()).results()
    # then the two small ones share a batch and only the big one fails, naming the limit
    assert [result.messages for result in results] == [[0, 2], [1]]
    assert "32 KB" in results[1].error.message


def test_a_person_s_request_waits_for_their_items_in_the_open_batch():
    # given a group of u1 (batched), then an identify of u1 (not batched)
    entries = [(0, "u1", group("g0")), (1, "u1", single("identify"))]
    # when they are combined
    sent = combine(entries)
    # then the batch goes first
    assert [combined.refs for combined in sent] == [[0], [1]]


def test_other_people_s_requests_may_go_before_the_open_batch():
    entries = [(0, "u1", group("g0")), (1, "u2", single("identify")), (2, "u1", group("g1"))]
    assert [combined.refs for combined in combine(entries)] == [[1], [0, 2]]


def test_a_person_s_item_for_another_batch_waits_for_their_items_in_the_first():
    entries = [
        (0, "u1", batched({"n": 0})),
        (1, "u1", batched({"n": 1}, headers={"Authorization": "Basic b"})),
    ]
    assert [combined.refs for combined in combine(entries)] == [[0], [1]]


# --- properties --------------------------------------------------------------------------------

ENDPOINTS = [BATCH_URL, "https://track-eu.customer.io/api/v2/batch"]
entry = st.one_of(
    st.tuples(st.just("single"), st.integers(0, 3), st.just(0), st.just(0)),
    st.tuples(st.just("batch"), st.integers(0, 3), st.integers(0, 1), st.integers(0, 120)),
)


def build(specs):
    entries = []
    for ref, (kind, person, endpoint, size) in enumerate(specs):
        if kind == "single":
            request = single(str(ref))
        else:
            request = batched({"ref": ref, "pad": "x" * size}, endpoint=ENDPOINTS[endpoint])
        entries.append((ref, f"p{person}", request))
    return entries


@settings(max_examples=300, deadline=None)
@given(specs=st.lists(entry, max_size=40), max_items=st.integers(1, 6), max_bytes=st.integers(12, 700))
def test_combine_keeps_every_person_s_order_and_the_limits(specs, max_items, max_bytes):
    # given any interleaving of batch items and other requests for a few people
    entries = build(specs)
    # when they are combined under small limits
    sent = combine(entries, max_items=max_items, max_bytes=max_bytes)
    # then every entry goes out exactly once
    delivered = []
    for combined in sent:
        refs, request = combined.refs, combined.request
        if request.is_batch:
            items = request.body["batch"]
            assert refs == [item["ref"] for item in items], "a batch lists its refs in item order"
            assert combined.item_refs == refs, "each item's ref is handed back"
            assert len(items) <= max_items
            assert len(items) == 1 or len(encode_json(request.body)) <= max_bytes
            assert len({entries[ref][2].endpoint for ref in refs}) == 1
            assert request.endpoint == entries[refs[0]][2].endpoint
            delivered.extend(refs)
        else:
            assert refs == [int(request.body["name"])] and combined.item_refs is None
            assert request is entries[refs[0]][2], "a request that is not a batch passes through"
            delivered.extend(refs)
    assert sorted(delivered) == list(range(len(entries)))
    # and each person's entries go out in the order they came in
    for person in {person for _, person, _ in entries}:
        mine = [ref for ref in delivered if entries[ref][1] == person]
        assert mine == sorted(mine), person


@settings(max_examples=100, deadline=None)
@given(specs=st.lists(entry, max_size=40))
def test_items_of_different_people_within_the_limits_share_one_batch_per_endpoint(specs):
    # given batch items of as many people as items, well within the real limits
    entries = [(ref, f"person-{ref}", request) for ref, _, request in build(specs) if request.is_batch]
    # when they are combined
    sent = combine(entries)
    # then nothing forces a split: one request per endpoint
    assert len(sent) == len({request.endpoint for _, _, request in entries})

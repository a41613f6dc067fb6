"""Every rejection answers its status with a message naming the field, and stores nothing."""

from __future__ import annotations

import gzip
import json

import pytest

from delivery.ingestion.sizes import MAX_BATCH_EVENTS, MAX_EVENT_BYTES, MAX_REQUEST_BYTES
from delivery.models import Delivery, Event
from tests.ingestion.conftest import basic_auth, track

pytestmark = pytest.mark.django_db

TYPES = "identify, track, page, screen, group, alias, record"


def assert_rejected(response, status: int, message: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == message
    # The SDKs read code and message to decide not to retry a 4xx.
    assert body["message"] == message
    assert isinstance(body["code"], str)
    assert Event.objects.count() == 0
    assert Delivery.objects.count() == 0


def test_a_body_that_is_not_json_is_400(sender):
    response = sender.post("/v1/track", b'{"userId": "u", "event": ')
    assert response.status_code == 400
    assert response.json()["error"].startswith("body: the request body is not valid JSON (")


def test_nan_is_not_json(sender):
    response = sender.post("/v1/track", b'{"userId": "u", "event": "e", "properties": {"x": NaN}}')
    assert response.status_code == 400
    assert response.json()["error"] == "body: the request body is not valid JSON (NaN is not a JSON value)"


def test_an_empty_body_is_400(sender):
    assert_rejected(sender.post("/v1/track", b""), 400, "body: the request body is empty")


@pytest.mark.parametrize("body", [[track()], "track", 42, None])
def test_a_body_that_is_not_an_object_is_400(sender, body):
    assert_rejected(sender.post("/v1/track", body), 400, "body: must be a JSON object")


def test_an_unknown_type_in_a_batch_is_400_with_its_index(sender):
    batch = [{"type": "track", **track()}, {"type": "purchase", "userId": "u"}]
    response = sender.post("/v1/batch", {"batch": batch})
    assert_rejected(response, 400, f'batch[1].type: unknown type "purchase"; expected one of {TYPES}')


def test_a_batch_item_without_a_type_is_400(sender):
    response = sender.post("/v1/batch", {"batch": [{"userId": "u"}]})
    assert_rejected(response, 400, f"batch[0].type: missing; expected one of {TYPES}")


@pytest.mark.parametrize("ids", [{}, {"userId": None}, {"userId": "", "anonymousId": "  "}])
def test_neither_user_id_nor_anonymous_id_is_400(sender, ids):
    response = sender.post("/v1/identify", {"traits": {"plan": "pro"}, **ids})
    assert_rejected(
        response, 400, "userId: neither userId nor anonymousId is set; a message needs one of them"
    )


def test_a_user_id_that_is_an_object_is_400(sender):
    response = sender.post("/v1/identify", {"userId": {"id": 1}})
    assert_rejected(response, 400, "userId: must be a string or a number")


@pytest.mark.parametrize("event", [None, 42, "", "   ", ["Signed Up"]])
def test_track_without_a_string_event_is_400(sender, event):
    response = sender.post("/v1/track", track(event=event))
    assert_rejected(response, 400, "event: track requires a string event name")


def test_alias_without_previous_id_is_400(sender):
    response = sender.post("/v1/alias", {"userId": "user-1"})
    assert_rejected(response, 400, "previousId: alias requires a previousId (a string or a number)")


def test_group_without_group_id_is_400(sender):
    response = sender.post("/v1/group", {"userId": "user-1", "traits": {}})
    assert_rejected(response, 400, "groupId: group requires a groupId (a string or a number)")


@pytest.mark.parametrize("field", ["traits", "properties", "context", "integrations"])
@pytest.mark.parametrize("value", ["text", [1, 2], 7])
def test_object_fields_that_are_not_objects_are_400(sender, field, value):
    response = sender.post("/v1/track", track(**{field: value}))
    assert_rejected(response, 400, f"{field}: must be an object")


def test_a_message_id_longer_than_the_column_is_400(sender):
    response = sender.post("/v1/track", track(messageId="m" * 256))
    assert_rejected(response, 400, "messageId: must be a string of at most 255 characters")


def test_a_numeric_message_id_longer_than_the_column_is_400_not_a_retry(sender):
    # a 300-digit number is valid JSON, but its text does not fit the column: SDKs would retry a 503 forever
    body = b'{"userId": "u", "event": "E", "messageId": ' + b"9" * 300 + b"}"
    assert_rejected(
        sender.post("/v1/track", body), 400, "messageId: must be a string of at most 255 characters"
    )
    batch = b'{"batch": [{"type": "track", "userId": "u", "event": "E", "messageId": 1' + b"0" * 300 + b"}]}"
    assert_rejected(
        sender.post("/v1/batch", batch), 400, "batch[0].messageId: must be a string of at most 255 characters"
    )


def test_a_nul_character_anywhere_is_400_naming_where(sender):
    batch = [{"type": "track", **track()}, {"type": "track", **track(properties={"note": "a\u0000b"})}]
    response = sender.post("/v1/batch", {"batch": batch})
    assert_rejected(
        response,
        400,
        "batch[1].properties.note: contains the NUL character (\\u0000), which cannot be stored",
    )


def test_an_unpaired_surrogate_is_400(sender):
    response = sender.post("/v1/track", b'{"userId": "u", "event": "\\ud800"}')
    assert_rejected(response, 400, "event: contains an unpaired UTF-16 surrogate, which is not valid Unicode")


def test_a_number_too_large_to_store_is_400(sender):
    response = sender.post("/v1/track", b'{"userId": "u", "event": "e", "properties": {"n": 1e999}}')
    assert_rejected(response, 400, "properties.n: is a number too large to store")


def test_a_batch_with_one_bad_event_is_rejected_whole(sender):
    # Given a batch whose fourth item is a track without an event name
    batch = [{"type": "identify", "userId": f"user-{index}"} for index in range(3)]
    batch.append({"type": "track", "userId": "user-3"})
    # When it is sent
    response = sender.post("/v1/batch", {"batch": batch})
    # Then nothing of it is stored, and the message names the item
    assert_rejected(response, 400, "batch[3].event: track requires a string event name")


def test_a_batch_that_is_not_an_array_is_400(sender):
    assert_rejected(
        sender.post("/v1/batch", {"batch": {"type": "track"}}), 400, "batch: must be an array of events"
    )


def test_an_empty_batch_is_400(sender):
    assert_rejected(sender.post("/v1/batch", {"batch": []}), 400, "batch: is empty")


def test_a_batch_item_that_is_not_an_object_is_400(sender):
    assert_rejected(sender.post("/v1/batch", {"batch": ["track"]}), 400, "batch[0]: must be a JSON object")


def compact_size(message: dict) -> int:
    return len(json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode())


def event_of_size(size: int) -> dict:
    message = track(properties={"padding": ""})
    message["properties"]["padding"] = "x" * (size - compact_size(message))
    assert compact_size(message) == size
    return message


def test_an_event_of_exactly_32_kb_is_accepted(sender):
    assert sender.post("/v1/track", event_of_size(MAX_EVENT_BYTES)).status_code == 200


def test_an_event_over_32_kb_is_413(sender):
    response = sender.post("/v1/track", event_of_size(MAX_EVENT_BYTES + 1))
    assert_rejected(response, 413, "body: the event is 32769 bytes, larger than the 32 KB limit")


def test_an_event_over_32_kb_in_a_batch_is_413_with_its_index(sender):
    batch = [{"type": "track", **track()}, {"type": "track", **event_of_size(MAX_EVENT_BYTES + 10)}]
    response = sender.post("/v1/batch", {"batch": batch})
    assert response.status_code == 413
    assert response.json()["error"].startswith("batch[1]: the event is ")


def test_the_event_size_does_not_count_whitespace_the_client_added(sender):
    # Given an event under the limit as compact JSON, but over it as indented JSON
    message = event_of_size(MAX_EVENT_BYTES - 200)
    indented = json.dumps(message, indent=40).encode()
    assert len(indented) > MAX_EVENT_BYTES
    # Then it is accepted
    assert sender.post("/v1/track", indented).status_code == 200


def test_a_batch_of_more_than_2500_events_is_413(sender):
    batch = [{"type": "identify", "userId": "u"}] * (MAX_BATCH_EVENTS + 1)
    response = sender.post("/v1/batch", {"batch": batch})
    assert_rejected(response, 413, "batch: has 2501 events, more than the limit of 2500")


def test_a_request_over_4_mb_is_413(sender):
    body = {"batch": [{"type": "track", **track(properties={"p": "x" * 2000})}] * 2100}
    assert len(json.dumps(body)) > MAX_REQUEST_BYTES
    assert_rejected(sender.post("/v1/batch", body), 413, "body: the request is larger than the 4 MB limit")


def test_a_gzip_bomb_is_413_without_decompressing_it_all(sender):
    # Given 1 GB of zeros compressed to about 1 MB
    bomb = gzip.compress(b"0" * (256 * 1024 * 1024), compresslevel=9) * 4
    assert len(bomb) < MAX_REQUEST_BYTES
    response = sender.post("/v1/batch", bomb, HTTP_CONTENT_ENCODING="gzip")
    assert_rejected(response, 413, "body: the request is larger than the 4 MB limit after decompression")


def test_a_body_that_is_not_gzip_but_says_so_is_400(sender):
    response = sender.post("/v1/track", json.dumps(track()).encode(), HTTP_CONTENT_ENCODING="gzip")
    assert_rejected(response, 400, "body: the request is not valid gzip")


def test_a_truncated_gzip_body_is_400(sender):
    response = sender.post(
        "/v1/track", gzip.compress(json.dumps(track()).encode())[:-12], HTTP_CONTENT_ENCODING="gzip"
    )
    assert_rejected(response, 400, "body: the gzip stream is truncated")


def test_a_body_that_is_not_utf8_is_400(sender):
    body = json.dumps(track(event="Caf\u00e9"), ensure_ascii=False).encode("latin-1")
    assert_rejected(sender.post("/v1/track", body), 400, "body: the request body is not valid UTF-8")


def test_an_unsupported_content_encoding_is_415(sender):
    response = sender.post("/v1/track", track(), HTTP_CONTENT_ENCODING="br")
    assert_rejected(response, 415, "Content-Encoding: 'br' is not supported; send gzip or no encoding")


def test_an_unknown_write_key_is_401(sender):
    response = sender.post("/v1/track", track(), auth="Basic " + "bm90LWEta2V5Og==")
    assert_rejected(response, 401, "invalid write key")
    assert response["WWW-Authenticate"].startswith("Basic")


def test_a_missing_write_key_is_401(sender):
    assert_rejected(
        sender.post("/v1/track", track(), auth=""),
        401,
        "missing write key: send it as the HTTP Basic user name",
    )


def test_a_malformed_basic_header_is_401(sender):
    assert_rejected(sender.post("/v1/track", track(), auth="Basic %%%"), 401, "invalid write key")


def test_a_disabled_source_is_404(sender, source):
    source.enabled = False
    source.save()
    assert_rejected(sender.post("/v1/track", track()), 404, "source is disabled")


def test_get_is_405(sender):
    response = sender.client.get("/v1/track", HTTP_AUTHORIZATION=basic_auth(sender.write_key))
    assert response.status_code == 405
    assert response.json()["error"] == 'Method "GET" not allowed.'

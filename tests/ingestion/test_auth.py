"""The write key finds the source: in a Basic header, a Bearer token, or the body; cached briefly."""

from __future__ import annotations

import json
import logging
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from delivery.models import Delivery, Event
from destinations.models import Destination
from tests.ingestion.conftest import track

pytestmark = pytest.mark.django_db


def test_the_write_key_as_basic_user_name_is_accepted(sender):
    assert sender.post("/v1/track", track()).status_code == 200


def test_the_write_key_as_a_bearer_token_is_accepted(sender):
    assert sender.post("/v1/track", track(), auth=f"Bearer {sender.write_key}").status_code == 200


def test_the_write_key_in_the_body_is_accepted(sender):
    response = sender.post(
        "/v1/batch", {"batch": [{"type": "track", **track()}], "writeKey": sender.write_key}, auth=""
    )
    assert response.status_code == 200
    response = sender.post("/v1/identify", {"userId": "u", "writeKey": sender.write_key}, auth="")
    assert response.status_code == 200
    assert Event.objects.count() == 2


@pytest.mark.parametrize("key", ["\ud800", "key\udfff", "\u0000"])
def test_a_key_that_is_not_valid_unicode_is_an_invalid_key_not_a_server_error(sender, key):
    # given a body whose writeKey holds an unpaired surrogate (valid JSON, not valid text)
    body = b'{"userId": "u", "event": "E", "writeKey": "' + json.dumps(key)[1:-1].encode() + b'"}'
    # when it is sent without a header
    response = sender.post("/v1/track", body, auth="")
    # then it is refused as an invalid key, in JSON
    assert (response.status_code, response.json()["error"]) == (401, "invalid write key")
    assert not Event.objects.exists()


def test_an_unknown_key_in_the_header_is_refused_before_the_body_is_read(sender):
    response = sender.post("/v1/track", b"not json at all", auth="Bearer wrong-key")
    assert (response.status_code, response.json()["error"]) == (401, "invalid write key")


def test_the_write_key_never_appears_in_logs_or_messages(sender, source, caplog):
    # Given a key one character off, and the real one
    wrong = source.write_key[:-1] + ("A" if source.write_key[-1] != "A" else "B")
    with caplog.at_level(logging.DEBUG):
        refused = sender.post("/v1/track", track(), auth=f"Bearer {wrong}")
        accepted = sender.post("/v1/track", track(event="Signed Up"))
        invalid = sender.post("/v1/track", track(event=None))
    # Then neither key is echoed anywhere
    for text in (caplog.text, refused.content.decode(), accepted.content.decode(), invalid.content.decode()):
        assert source.write_key not in text
        assert wrong not in text


def test_a_cached_source_costs_no_lookup_queries(sender):
    sender.post("/v1/track", track(messageId="first"))
    with CaptureQueriesContext(connection) as queries:
        assert sender.post("/v1/track", track(messageId="second")).status_code == 200
    tables = " ".join(query["sql"] for query in queries.captured_queries)
    assert "destinations_source" not in tables
    assert "destinations_destination" not in tables


def test_disabling_a_source_takes_effect_within_the_cache_time(sender, source, settings):
    # Given a short cache time and a source just used
    settings.INGESTION_AUTH_CACHE_SECONDS = 0.5
    assert sender.post("/v1/track", track(messageId="before")).status_code == 200
    # When the source is disabled
    source.enabled = False
    source.save()
    # Then once the cache time has passed, its key is answered 404
    time.sleep(0.6)
    response = sender.post("/v1/track", track(messageId="after"))
    assert (response.status_code, response.json()["error"]) == (404, "source is disabled")


def test_a_rotated_key_stops_working_within_the_cache_time_and_the_new_one_works_at_once(
    sender, source, settings
):
    settings.INGESTION_AUTH_CACHE_SECONDS = 0.5
    old_key = source.write_key
    assert sender.post("/v1/track", track(messageId="old")).status_code == 200
    new_key = source.rotate_write_key()
    source.save()
    assert sender.post("/v1/track", track(messageId="new"), auth=f"Bearer {new_key}").status_code == 200
    time.sleep(0.6)
    response = sender.post("/v1/track", track(messageId="stale"), auth=f"Bearer {old_key}")
    assert (response.status_code, response.json()["error"]) == (401, "invalid write key")


def test_a_newly_connected_destination_gets_deliveries_within_the_cache_time(sender, source, settings):
    settings.INGESTION_AUTH_CACHE_SECONDS = 0.5
    sender.post("/v1/track", track(messageId="one"))
    added = Destination.objects.create(name="Second workspace", site_id="s", api_key="k")
    added.sources.add(source)
    time.sleep(0.6)
    sender.post("/v1/track", track(messageId="two"))
    assert Delivery.objects.filter(destination=added).count() == 1

"""Refused requests leave a trace: a count by source, hour and reason, and a few examples with the
message naming the field, never a write key, bounded under a flood, and never at the cost of the answer."""

from __future__ import annotations

import gzip
import json
import time
from datetime import timedelta

import pytest
from django.db import DatabaseError, OperationalError
from django.utils import timezone

from delivery import tasks
from delivery.engine import sweeper
from delivery.ingestion import refused_requests
from delivery.ingestion.sizes import MAX_BATCH_EVENTS
from delivery.models import RefusalCount, RefusedRequest
from tests.ingestion.conftest import basic_auth, track
from tests.support.factories import make_source

pytestmark = pytest.mark.django_db

UNKNOWN_KEY = "unknown-key-offered-by-a-client-0123456789"


def stored_text() -> str:
    """Everything kept about refusals, as one string to search for a secret."""
    rows = [
        *RefusedRequest.objects.values("message", "path", "client_address", "user_agent", "body"),
        *RefusalCount.objects.values("code"),
    ]
    return json.dumps(rows)


def only_example() -> RefusedRequest:
    [example] = RefusedRequest.objects.all()
    return example


def counts() -> list[tuple]:
    rows = RefusalCount.objects.values_list("source_id", "status", "code", "count")
    return sorted(rows, key=lambda row: (row[0] or 0, *row[1:]))


def test_a_bad_field_is_kept_with_its_message_under_its_source(sender, source):
    # When an SDK sends a track call without an event name
    response = sender.post(
        "/v1/track", {"userId": "ada", "properties": {"plan": "pro"}}, HTTP_USER_AGENT="sdk/1.0"
    )
    # Then it is refused as before, and the refusal is counted and kept under the source
    assert response.status_code == 400
    assert counts() == [(source.pk, 400, "invalid_request", 1)]
    example = only_example()
    assert example.source_id == source.pk
    assert (example.status, example.code) == (400, "invalid_request")
    assert example.message == "event: track requires a string event name"
    assert (example.method, example.path) == ("POST", "/v1/track")
    assert example.client_address == "127.0.0.1"
    assert example.user_agent == "sdk/1.0"
    assert json.loads(example.body) == {"userId": "ada", "properties": {"plan": "pro"}}
    assert example.body_bytes == len(json.dumps({"userId": "ada", "properties": {"plan": "pro"}}))
    # And nothing of the write key that authorized it
    assert sender.write_key not in stored_text()


def test_an_unknown_key_is_kept_under_the_unknown_source_without_the_key(sender):
    # When a client sends with a key no source has
    response = sender.post("/v1/track", track(), auth=basic_auth(UNKNOWN_KEY))
    # Then it is refused as before, counted under no source, and the key offered is nowhere
    assert response.status_code == 401
    assert counts() == [(None, 401, "invalid_write_key", 1)]
    example = only_example()
    assert example.source_id is None
    assert example.message == "invalid write key"
    # (refused on its header: its body was never read)
    assert (example.body, example.body_bytes) == ("", None)
    assert UNKNOWN_KEY not in stored_text()


def test_a_missing_key_is_kept_under_the_unknown_source(sender):
    response = sender.post("/v1/track", track(), auth="")
    assert response.status_code == 401
    assert only_example().message == "missing write key: send it as the HTTP Basic user name"
    assert counts() == [(None, 401, "invalid_write_key", 1)]


def test_a_write_key_in_the_body_is_redacted(sender):
    # When a client sends its key in the body (Segment's HTTP API), and the key is unknown
    body = {"writeKey": UNKNOWN_KEY, **track()}
    assert sender.post("/v1/track", body, auth="").status_code == 401
    # Then the body is kept with the key redacted
    kept = json.loads(only_example().body)
    assert kept["writeKey"] == "[redacted]" and kept["event"] == "Order Completed"
    assert UNKNOWN_KEY not in stored_text()


def test_a_write_key_spelt_with_escapes_is_redacted_too(sender):
    body = b'{"write\\u004bey": "' + UNKNOWN_KEY.encode() + b'", "userId": "ada", "event": "E"}'
    assert sender.post("/v1/track", body, auth="").status_code == 401
    assert "[redacted]" in only_example().body
    assert UNKNOWN_KEY not in stored_text()


def test_a_write_key_in_a_body_that_is_not_json_is_redacted(sender):
    # When the body is cut short (not JSON) after the key
    body = b'{"writeKey": "' + UNKNOWN_KEY.encode() + b'", "userId": "ada", "event": '
    response = sender.post("/v1/track", body, auth="")
    # Then it is refused for its JSON, under no source (the key in it was never read)
    assert response.status_code == 400
    example = only_example()
    assert example.source_id is None
    assert example.message.startswith("body: the request body is not valid JSON")
    assert example.body.startswith('{"writeKey": "[redacted]", "userId": "ada"')
    assert UNKNOWN_KEY not in stored_text()


def test_a_gzip_body_is_kept_decompressed(sender, source):
    response = sender.post("/v1/track", {"userId": "ada"}, gzipped=True)
    assert response.status_code == 400
    example = only_example()
    assert json.loads(example.body) == {"userId": "ada"}
    assert example.body_bytes == len(gzip.compress(json.dumps({"userId": "ada"}).encode()))


def test_a_gzip_body_that_cannot_be_decompressed_is_not_kept(sender):
    response = sender.post("/v1/track", b"not gzip at all", HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 400
    example = only_example()
    assert example.message == "body: the request is not valid gzip"
    assert example.body == "(not kept: a Content-Encoding gzip body, refused before it was decompressed)"


def test_an_origin_not_allowed_is_kept_under_its_source(sender, source):
    source.allowed_origins = ["https://www.example.com"]
    source.save()
    response = sender.post("/v1/track", track(), HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403
    example = only_example()
    assert example.source_id == source.pk
    assert example.message == "origin https://evil.example is not among this source's allowed origins"
    assert counts() == [(source.pk, 403, "origin_not_allowed", 1)]


def test_a_disabled_source_is_kept_under_it(sender, source):
    source.enabled = False
    source.save()
    assert sender.post("/v1/track", track()).status_code == 404
    assert counts() == [(source.pk, 404, "source_disabled", 1)]
    assert sender.write_key not in stored_text()


def test_a_batch_over_the_limit_is_kept_with_its_body_cut(sender, source):
    # When a batch has one event too many
    batch = [track(messageId=f"m-{index}") for index in range(MAX_BATCH_EVENTS + 1)]
    response = sender.post("/v1/batch", {"batch": batch})
    # Then the refusal names the limit, and the body is kept cut to 2 KB, its size noted
    assert response.status_code == 413
    example = only_example()
    assert example.code == "payload_too_large"
    assert example.message.startswith(f"batch: has {MAX_BATCH_EVENTS + 1} events")
    assert len(example.body) == refused_requests.BODY_LIMIT + 1 and example.body.endswith("…")
    assert example.body.startswith('{"batch": [{"userId": "user-1"')
    assert example.body_bytes == len(json.dumps({"batch": batch}))


def test_a_body_over_the_size_limit_is_refused_before_it_is_read(sender):
    response = sender.post("/v1/batch", b"x", CONTENT_LENGTH="5000000")
    assert response.status_code == 413
    assert (only_example().body, only_example().body_bytes) == ("", None)


def test_a_request_over_the_rate_limit_is_kept_under_its_source(sender, source, settings):
    settings.INGESTION_RATE_LIMIT_PER_SECOND = 1
    codes = [sender.post("/v1/track", track(messageId=f"m-{index}")).status_code for index in range(4)]
    assert 429 in codes
    assert (source.pk, 429, "rate_limited", codes.count(429)) in counts()


def test_the_settings_document_of_an_unknown_key_keeps_the_key_out_of_the_path(client):
    # When an SDK asks for the settings of a key no source has (the key is in the path)
    response = client.get(f"/v1/projects/{UNKNOWN_KEY}/settings")
    # Then the refusal is kept with the key replaced in its path
    assert response.status_code == 404
    example = only_example()
    assert example.path == "/v1/projects/[redacted]/settings"
    assert (example.method, example.code) == ("GET", "not_found")
    assert UNKNOWN_KEY not in stored_text()


def test_the_beacon_query_string_is_never_kept(client):
    response = client.post(
        f"/beacon/v1/batch?writeKey={UNKNOWN_KEY}", data=b'{"batch": []}', content_type="text/plain"
    )
    assert response.status_code == 401
    assert only_example().path == "/beacon/v1/batch"
    assert UNKNOWN_KEY not in stored_text()


def test_a_wrong_method_is_counted_under_the_unknown_source(client):
    assert client.get("/v1/track").status_code == 405
    assert counts() == [(None, 405, "method_not_allowed", 1)]


def test_accepted_events_and_our_own_failures_are_not_refusals(sender, monkeypatch):
    # When an event is accepted, and another meets a database that is down (503: our failure)
    assert sender.post("/v1/track", track()).status_code == 200

    def store_fails(*args, **kwargs):
        raise OperationalError("the database is down")

    monkeypatch.setattr("delivery.ingestion.views.store", store_fails)
    assert sender.post("/v1/track", track(messageId="later")).status_code == 503
    # Then neither is recorded as a refusal
    assert counts() == [] and not RefusedRequest.objects.exists()


def test_refusals_of_one_hour_and_reason_add_up_in_one_row(sender, source):
    for _ in range(3):
        sender.post("/v1/track", {"userId": "ada"})
    sender.post("/v1/track", track(), auth=basic_auth(UNKNOWN_KEY))
    assert counts() == [(None, 401, "invalid_write_key", 1), (source.pk, 400, "invalid_request", 3)]
    [row] = RefusalCount.objects.filter(source=source)
    assert row.hour == timezone.now().replace(minute=0, second=0, microsecond=0)


# A flood


def test_a_flood_is_counted_whole_but_keeps_a_bounded_number_of_examples(sender, source, monkeypatch):
    # Given every refusal sampled as an example (the default keeps a few a second)
    monkeypatch.setattr(refused_requests, "EXAMPLES_PER_SECOND", 10_000)
    # When 2,000 bad requests arrive
    for index in range(2_000):
        response = sender.post("/v1/track", {"userId": f"flood-{index}"})
        assert response.status_code == 400
    # Then every one is counted, and only the newest examples are kept
    assert counts() == [(source.pk, 400, "invalid_request", 2_000)]
    kept = RefusedRequest.objects.count()
    bound = refused_requests.KEEP_PER_REASON + refused_requests.TRIM_EVERY - 1
    assert refused_requests.KEEP_PER_REASON <= kept <= bound
    newest = RefusedRequest.objects.order_by("-id").first()
    assert json.loads(newest.body) == {"userId": "flood-1999"}


def test_a_flood_costs_a_few_writes_a_second(client, monkeypatch, django_assert_max_num_queries):
    # Given counts written once a second, as outside tests (the timer that writes the rest is stubbed)
    monkeypatch.setattr(refused_requests, "FLUSH_SECONDS", 1.0)
    monkeypatch.setattr(refused_requests, "_flush_later", lambda: None)
    # When 2,000 requests with an unknown key arrive, within a few seconds
    started = time.time()
    with django_assert_max_num_queries(300) as queries:
        for _ in range(2_000):
            client.post(
                "/v1/track",
                data=b"{}",
                content_type="application/json",
                HTTP_AUTHORIZATION=basic_auth("x" * 32),
            )
    # (the clock seconds it spanned: sampling counts by the second)
    seconds = int(time.time()) - int(started) + 1
    # Then examples and counts were written only a few times a second, not once a request
    assert RefusedRequest.objects.count() <= refused_requests.EXAMPLES_PER_SECOND * seconds
    assert len(queries) < 40 * seconds
    # And once the rest is written, every one is counted
    refused_requests.flush()
    assert counts() == [(None, 401, "invalid_write_key", 2_000)]


def test_counts_not_yet_written_are_written_by_a_timer_within_a_second(sender, monkeypatch):
    # Given counts written at most once a second, and a third refusal within the same second
    monkeypatch.setattr(refused_requests, "FLUSH_SECONDS", 3600.0)
    timers = []
    monkeypatch.setattr(refused_requests, "_flush_later", lambda: timers.append(refused_requests.flush))
    for _ in range(3):
        sender.post("/v1/track", {"userId": "ada"})
    # Then the first two (kept as examples) are counted at once, and the third is left to the timer
    assert [count for *_, count in counts()] == [2]
    assert timers
    timers[0]()
    assert [count for *_, count in counts()] == [3]


def test_each_reason_keeps_its_own_examples(sender, source, monkeypatch):
    # Given a source flooded with one kind of bad request
    monkeypatch.setattr(refused_requests, "EXAMPLES_PER_SECOND", 10_000)
    source.allowed_origins = ["https://www.example.com"]
    source.save()
    sender.post("/v1/track", track(), HTTP_ORIGIN="https://evil.example")
    for _ in range(200):
        sender.post("/v1/track", {"userId": "ada"})
    # Then the example of the rarer reason is still there
    assert RefusedRequest.objects.filter(code="origin_not_allowed").count() == 1


# Failures while recording


@pytest.mark.parametrize("failing", ["_write_counts", "_keep"])
def test_a_database_failure_while_recording_still_answers_the_refusal(sender, monkeypatch, caplog, failing):
    # Given a database that fails the recording (a full disk, say)
    def fails(*args, **kwargs):
        raise DatabaseError("database or disk is full")

    monkeypatch.setattr(refused_requests, failing, fails)
    # When a bad request arrives
    response = sender.post("/v1/track", {"userId": "ada"})
    # Then it is answered exactly as before, and the failure is logged
    assert response.status_code == 400
    assert response.json() == {
        "error": "event: track requires a string event name",
        "code": "invalid_request",
        "message": "event: track requires a string event name",
    }
    assert "could not record refused requests" in caplog.text
    # And nothing half-written stays
    assert counts() == [] and not RefusedRequest.objects.exists()


def test_after_a_failure_recording_pauses_then_resumes(sender, monkeypatch):
    calls = []

    def fails(*args, **kwargs):
        calls.append(args)
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(refused_requests, "_write_counts", fails)
    # When the database fails, the following refusals do not ask it again for a while
    for _ in range(5):
        assert sender.post("/v1/track", {"userId": "ada"}).status_code == 400
    assert len(calls) == 1
    # And once the pause is over, recording resumes
    monkeypatch.undo()
    monkeypatch.setattr(refused_requests, "_paused_until", 0.0)
    assert sender.post("/v1/track", {"userId": "ada"}).status_code == 400
    assert RefusalCount.objects.count() == 1


# Retention


def test_retention_deletes_old_examples_and_counts(settings):
    # Given refusals older than the retention and recent ones
    settings.DELIVERY_RETENTION_SECONDS = 3600 * 24
    now = timezone.now()
    source = make_source("web")
    old, recent = now - timedelta(days=2), now - timedelta(hours=1)
    for at in (old, recent):
        hour = at.replace(minute=0, second=0, microsecond=0)
        RefusalCount.objects.create(source=source, hour=hour, status=400, code="invalid_request", count=3)
        RefusedRequest.objects.create(
            received_at=at, status=401, code="invalid_write_key", message="m", method="POST", path="/v1/track"
        )
    # When the retention task runs
    tasks.delete_old_deliveries()
    # Then only the recent ones are left
    assert list(RefusedRequest.objects.values_list("received_at", flat=True)) == [recent]
    assert RefusalCount.objects.get().hour == recent.replace(minute=0, second=0, microsecond=0)
    assert sweeper.delete_old_refusals() == 0

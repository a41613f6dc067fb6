"""Fields the server fills in, as Segment's and RudderStack's hosted services do."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from delivery.models import Event
from tests.ingestion.conftest import track

pytestmark = pytest.mark.django_db


def stored_payload() -> dict:
    return Event.objects.get().payload


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_missing_message_id_becomes_a_uuid(sender):
    sender.post("/v1/track", track())
    assert uuid.UUID(stored_payload()["messageId"])


def test_the_clients_message_id_is_kept(sender):
    sender.post("/v1/track", track(messageId="order-42-completed"))
    assert Event.objects.get().message_id == stored_payload()["messageId"] == "order-42-completed"


def test_a_numeric_message_id_is_stored_as_a_string(sender):
    sender.post("/v1/track", track(messageId=42))
    assert stored_payload()["messageId"] == "42"


def test_received_at_is_the_servers_time_in_utc_with_milliseconds(sender):
    before = datetime.now(UTC)
    sender.post("/v1/track", track(receivedAt="1999-01-01T00:00:00Z"))
    after = datetime.now(UTC)
    received_at = stored_payload()["receivedAt"]
    assert received_at.endswith("Z") and len(received_at) == len("2026-01-01T00:00:00.000Z")
    assert before - timedelta(milliseconds=1) <= at(received_at) <= after
    assert Event.objects.get().received_at.isoformat(timespec="milliseconds")[:23] == received_at[:23]


def test_context_ip_is_the_requests_address_when_the_client_sends_none(sender):
    sender.post("/v1/track", track(context={"locale": "en-GB"}), REMOTE_ADDR="203.0.113.9")
    assert stored_payload()["context"] == {"locale": "en-GB", "ip": "203.0.113.9"}


def test_the_clients_context_ip_wins(sender):
    sender.post("/v1/track", track(context={"ip": "198.51.100.7"}), REMOTE_ADDR="203.0.113.9")
    assert stored_payload()["context"]["ip"] == "198.51.100.7"


def test_x_forwarded_for_is_ignored_unless_trusted(sender, settings):
    sender.post("/v1/track", track(messageId="a"), REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9")
    settings.INGESTION_TRUST_X_FORWARDED_FOR = True
    sender.post(
        "/v1/track",
        track(messageId="b"),
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.1",
    )
    ips = {event.message_id: event.payload["context"]["ip"] for event in Event.objects.all()}
    assert ips == {"a": "10.0.0.2", "b": "203.0.113.9"}


def test_timestamp_is_corrected_for_the_clients_clock(sender):
    # Given a browser whose clock is an hour ahead: the call happened 5 s before it was sent
    body = track(originalTimestamp="2026-01-01T11:00:00.000Z", sentAt="2026-01-01T11:00:05.000Z")
    # When it arrives
    sender.post("/v1/track", body)
    # Then timestamp = receivedAt - (sentAt - originalTimestamp), and originalTimestamp is kept
    payload = stored_payload()
    assert at(payload["timestamp"]) == at(payload["receivedAt"]) - timedelta(seconds=5)
    assert payload["originalTimestamp"] == "2026-01-01T11:00:00.000Z"


def test_a_server_sdks_timestamp_and_batch_sent_at_are_corrected_too(sender):
    # Given what the Python SDKs send: the call's time as timestamp, sentAt on the batch
    item = {"type": "track", **track(timestamp="2020-06-01T00:00:00+00:00")}
    sender.post("/v1/batch", {"batch": [item], "sentAt": "2020-06-01T00:00:02.500+00:00"})
    # Then the event is placed 2.5 s before it was received, and the client's value kept
    payload = stored_payload()
    assert at(payload["timestamp"]) == at(payload["receivedAt"]) - timedelta(seconds=2.5)
    assert payload["originalTimestamp"] == "2020-06-01T00:00:00+00:00"
    assert payload["sentAt"] == "2020-06-01T00:00:02.500+00:00"


def test_without_sent_at_the_clients_timestamp_is_used(sender):
    sender.post("/v1/track", track(timestamp="2025-02-03T04:05:06+01:00"))
    assert stored_payload()["timestamp"] == "2025-02-03T03:05:06.000Z"


def test_without_any_time_the_timestamp_is_received_at(sender):
    sender.post("/v1/track", track())
    payload = stored_payload()
    assert payload["timestamp"] == payload["receivedAt"]


def test_an_unreadable_timestamp_is_replaced_and_kept_as_original(sender):
    sender.post("/v1/track", track(timestamp="yesterday", sentAt="2026-01-01T00:00:00Z"))
    payload = stored_payload()
    assert payload["timestamp"] == payload["receivedAt"]
    assert payload["originalTimestamp"] == "yesterday"


def test_imported_events_without_a_timestamp_get_received_at(sender):
    sender.post("/v1/import/track", track())
    payload = stored_payload()
    assert payload["timestamp"] == payload["receivedAt"]


def test_channel_defaults_to_server_and_the_clients_wins(sender):
    sender.post("/v1/track", track(messageId="a"))
    sender.post("/v1/track", track(messageId="b", channel="browser"))
    assert {event.message_id: event.payload["channel"] for event in Event.objects.all()} == {
        "a": "server",
        "b": "browser",
    }

"""Ack means stored (DESIGN.md invariant 1): 200 only after the commit, 503 when it cannot happen."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection, connections

from delivery.engine import doorbell
from delivery.models import Delivery, Event
from tests.ingestion.conftest import Sender, track

pytestmark = pytest.mark.django_db(transaction=True)


def committed_event_count() -> int:
    """Counted on another connection, so only committed rows are seen."""
    counts = []

    def count() -> None:
        try:
            counts.append(Event.objects.count())
        finally:
            connection.close()

    thread = threading.Thread(target=count)
    thread.start()
    thread.join()
    return counts[0]


def test_a_failed_commit_is_answered_503_and_stores_nothing(client, source, destination, rings):
    # Given a destination deleted while the source is still cached: the deliveries' foreign key is
    # checked when the transaction commits (Django's are DEFERRABLE INITIALLY DEFERRED), so the commit fails
    sender = Sender(client, source.write_key)
    assert sender.post("/v1/track", track(messageId="before")).status_code == 200
    destination_id = destination.id
    destination.delete()
    # When a batch arrives
    response = sender.post(
        "/v1/batch", {"batch": [{"type": "track", **track(messageId=str(n))} for n in range(3)]}
    )
    # Then the answer is 503 in the API's error shape, nothing of it is stored, and nobody was woken again
    assert response.status_code == 503
    assert response.json()["error"] == "the event store is unavailable; nothing was stored, retry"
    assert list(Event.objects.values_list("message_id", flat=True)) == ["before"]
    assert Delivery.objects.count() == 0
    assert rings == [[destination_id]]
    # And the SDK's retry is stored, routed to what exists now
    assert sender.post("/v1/batch", {"batch": [{"type": "track", **track(messageId="0")}]}).status_code == 200
    assert Event.objects.count() == 2


def test_an_unreachable_database_is_answered_503(client, source, destination, monkeypatch):
    # Given a source already looked up (cached), then a database that refuses connections
    sender = Sender(client, source.write_key)
    assert sender.post("/v1/track", track(messageId="before")).status_code == 200

    def refused(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections["default"], "cursor", refused)
    response = sender.post("/v1/track", track(messageId="during"))
    monkeypatch.undo()
    assert (response.status_code, response.json()["code"]) == (503, "unavailable")
    assert list(Event.objects.values_list("message_id", flat=True)) == ["before"]
    # and the connection is closed, so the SDK's retry comes on a new one
    assert response["Connection"] == "close"


def test_the_doorbell_rings_after_the_commit(client, source, destination, monkeypatch):
    # Given a doorbell that looks at what another connection can see when it rings
    seen_when_rung = []
    monkeypatch.setattr(
        doorbell, "ring", lambda ids: seen_when_rung.append((list(ids), committed_event_count()))
    )
    # When a batch of three is stored
    batch = [{"type": "track", **track(messageId=str(index))} for index in range(3)]
    Sender(client, source.write_key).post("/v1/batch", {"batch": batch})
    # Then it rang once, for the destination, with all three events already committed
    assert seen_when_rung == [([destination.id], 3)]


def test_a_rejected_request_rings_nothing(client, source, destination, rings):
    Sender(client, source.write_key).post("/v1/track", {"userId": "u"})
    assert rings == []

"""A messageId already stored for a source is answered 200 and stored once, even under a race."""

from __future__ import annotations

import logging
import threading

import pytest
from django.db import connection
from django.test import Client

from delivery.models import Delivery, Event
from tests.ingestion.conftest import Sender, track


@pytest.mark.django_db
def test_a_repeated_message_id_is_answered_200_and_stored_once(sender, source, caplog):
    # Given an event already stored
    assert sender.post("/v1/track", track(messageId="m-1")).status_code == 200
    # When an SDK retries it
    with caplog.at_level(logging.INFO, logger="delivery.ingestion.store"):
        response = sender.post("/v1/track", track(messageId="m-1"))
    # Then it is answered 200, not stored again, counted, and the log says so without the key
    assert response.status_code == 200
    event = Event.objects.get()
    assert (event.duplicates_dropped, event.last_duplicate_at is not None) == (1, True)
    assert Delivery.objects.count() == 1
    assert "duplicate(s) of messageId m-1 from source Web app" in caplog.text
    assert source.write_key not in caplog.text


@pytest.mark.django_db
def test_a_message_id_repeated_inside_one_batch_is_stored_once(sender):
    batch = [
        {"type": "track", **track(messageId="m-2")},
        {"type": "identify", "userId": "u", "messageId": "m-2"},
    ]
    assert sender.post("/v1/batch", {"batch": batch}).status_code == 200
    event = Event.objects.get()
    assert (event.type, event.duplicates_dropped) == ("track", 1)
    assert Delivery.objects.count() == 1


@pytest.mark.django_db
def test_a_batch_retried_whole_stores_nothing_new(sender):
    batch = [{"type": "track", **track(messageId=f"m-{index}")} for index in range(5)]
    sender.post("/v1/batch", {"batch": batch})
    sender.post("/v1/batch", {"batch": [*batch, {"type": "track", **track(messageId="m-new")}]})
    assert Event.objects.count() == 6
    assert sorted(Event.objects.values_list("duplicates_dropped", flat=True)) == [0, 1, 1, 1, 1, 1]
    assert Delivery.objects.count() == 6


@pytest.mark.django_db
def test_the_same_message_id_from_two_sources_is_two_events(client, sender, source):
    from destinations.models import Source

    other = Source.objects.create(name="Backend")
    sender.post("/v1/track", track(messageId="shared"))
    Sender(client, other.write_key).post("/v1/track", track(messageId="shared"))
    assert Event.objects.filter(message_id="shared").count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_requests_racing_with_one_message_id_store_it_once(source, destination):
    # Given two clients that send the same messageIds at the same moment
    rounds, statuses = 5, []
    barrier = threading.Barrier(2)

    def send(round_number: int) -> None:
        try:
            barrier.wait(timeout=10)
            response = Sender(Client(), source.write_key).post(
                "/v1/track", track(messageId=f"race-{round_number}")
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    for round_number in range(rounds):
        threads = [threading.Thread(target=send, args=(round_number,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    # Then both are answered 200 and each messageId is stored once, with one delivery
    assert statuses == [200] * rounds * 2
    assert Event.objects.count() == rounds
    assert Delivery.objects.count() == rounds
    assert sum(Event.objects.values_list("duplicates_dropped", flat=True)) == rounds

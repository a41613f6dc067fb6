"""End to end: real Celery worker processes, the real broker and database, a fake Customer.io.

Deliveries are stored as the ingestion API stores them, then the doorbell rings; everything after
that happens in other processes. Assertions are on what Customer.io received and on the log.
"""

from __future__ import annotations

import base64
import itertools
import shutil
import time
from collections import defaultdict

import pytest
from django.conf import settings
from django.db.models import Count

from delivery.engine import doorbell
from delivery.models import Delivery, SentRequest
from delivery.redis_client import redis_client
from destinations.models import Destination
from tests.support.factories import identify, make_delivery, make_destination, track
from tests.support.processes import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def all_finished(destination: Destination, count: int) -> bool:
    return Delivery.objects.filter(destination=destination).exclude(status__in=Delivery.OPEN).count() == count


def wait_for_all(destination: Destination, count: int, timeout: float = 60) -> None:
    def done() -> bool:
        return all_finished(destination, count)

    def state() -> str:
        return str(
            dict(Delivery.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
        )

    try:
        wait_until(done, timeout=timeout, message="deliveries did not finish")
    except AssertionError as error:
        raise AssertionError(f"{error}; statuses now: {state()}") from None


def names_by_person(requests) -> dict[str, list[str]]:
    """What each person's requests carried, in the order Customer.io received them."""
    sequences: dict[str, list[str]] = defaultdict(list)
    for request in requests:
        person = request.path.split("/customers/")[1].split("/")[0]
        sequences[person].append(request.json["name"])
    return sequences


def first_occurrences(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def lose_broker_messages() -> None:
    """Every queued task message disappears: Redis flushed, or the embedded broker's files deleted."""
    client = redis_client()
    if client is not None:
        client.flushdb()  # our own test database number only
        return
    queue = settings.BROKER_DIR / "queue"
    shutil.rmtree(queue)
    queue.mkdir()


def test_a_worker_takes_events_through_every_stage(fake, celery):
    # Given events that will be delivered, filtered, fail to transform, fail at Customer.io
    destination = make_destination(
        event_filtering=Destination.EventFiltering.DENYLIST, denylisted_events=["Spam"]
    )
    delivered = [
        make_delivery(destination, identify("ann", plan="pro")),
        make_delivery(destination, track("ann", "Paid")),
    ]
    filtered = make_delivery(destination, track("bob", "Spam"))
    untransformable = make_delivery(destination, {"type": "identify", "anonymousId": "anon-1"})
    rejected = make_delivery(destination, track("cat", "Paid"))
    fake.answer(400, body={"meta": {"error": "x" * 300}}, path="/api/v1/customers/cat")
    # When a worker is woken
    celery.worker(fake, DELIVERY_RESPONSE_BODY_LIMIT=64)
    doorbell.ring([destination.pk], force=True)
    wait_for_all(destination, 5)
    # Then Customer.io received ann's two requests in order and cat's once
    assert sorted((request.method, request.path) for request in fake.requests()) == [
        ("POST", "/api/v1/customers/ann/events"),
        ("POST", "/api/v1/customers/cat/events"),
        ("PUT", "/api/v1/customers/ann"),
    ]
    ann = [request.path for request in fake.requests() if "/ann" in request.path]
    assert ann == ["/api/v1/customers/ann", "/api/v1/customers/ann/events"]
    assert fake.requests("/api/v1/customers/ann/events")[0].json["name"] == "Paid"
    # And the log says what happened to each, in words
    log = {delivery.pk: delivery for delivery in Delivery.objects.all()}
    assert [log[delivery.pk].status for delivery in delivered] == ["delivered", "delivered"]
    assert log[filtered.pk].reason == 'Filtered by event filtering: "Spam" is in the denylist'
    assert log[untransformable.pk].status == "failed"
    assert log[untransformable.pk].reason.startswith("Instrumentation error: ")
    assert log[rejected.pk].status == "failed"
    assert log[rejected.pk].reason.startswith("Customer.io answered 400: ")
    attempt = SentRequest.objects.get(deliveries=rejected)
    assert attempt.request_headers["Authorization"] == "[redacted]"
    assert attempt.response_body.endswith("...") and len(attempt.response_body) == 64 + 3


def test_v2_batches_are_sent_whole_and_a_207_fails_only_named_items(fake, celery):
    destination = make_destination(api_version="v2")
    deliveries = [make_delivery(destination, track(f"p{index}", "Order")) for index in range(20)]
    fake.answer(
        207, body={"errors": [{"batch_index": 3, "reason": "invalid", "field": "name", "message": "no"}]}
    )
    celery.worker(fake)
    doorbell.ring([destination.pk], force=True)
    wait_for_all(destination, 20)
    (batch,) = fake.requests()
    assert [item["identifiers"]["id"] for item in batch.json["batch"]] == [f"p{index}" for index in range(20)]
    failed = Delivery.objects.get(status="failed")
    assert failed.pk == deliveries[3].pk
    assert failed.reason == "Customer.io rejected this item: reason: invalid, field: name, message: no"
    assert Delivery.objects.filter(status="delivered").count() == 19


def test_401_marks_the_destination_and_the_next_success_clears_it(fake, celery):
    destination = make_destination()
    make_delivery(destination, track("ann", "Order"))
    fake.answer(401, body={"meta": {"error": "Unauthorized request"}}, times=1)
    celery.worker(fake)
    doorbell.ring([destination.pk], force=True)
    wait_for_all(destination, 1)
    assert Destination.objects.get(pk=destination.pk).credentials_rejected_at is not None
    make_delivery(destination, track("bob", "Order"))
    doorbell.ring([destination.pk], force=True)
    wait_for_all(destination, 2)
    healthy = Destination.objects.get(pk=destination.pk)
    assert healthy.credentials_rejected_at is None and healthy.last_delivered_at is not None


def outage_then_recovery(fake, celery, outage: float, **worker_settings) -> None:
    # Given Customer.io answers 500 to everything for a while
    destination = make_destination()
    people = ["ann", "bob", "cat", "dan"]
    names = [f"Step {index}" for index in range(5)]
    for name, person in itertools.product(names, people):
        make_delivery(destination, track(person, name))
    celery.worker(fake, name="one", **worker_settings)
    celery.worker(fake, name="two", **worker_settings)
    celery.beat(fake, **worker_settings)
    fake.answer(500, body="outage", seconds=outage)
    started = time.time()
    # When workers and the sweeper run through it
    doorbell.ring([destination.pk], force=True)
    wait_for_all(destination, len(people) * len(names), timeout=outage + 60)
    # Then everything was delivered once, in order per person, after several retries
    assert Delivery.objects.filter(status="delivered").count() == len(people) * len(names)
    successes = fake.requests(status=200)
    assert len(successes) == len(people) * len(names)
    assert all(sequence == names for sequence in names_by_person(successes).values())
    assert all(sequence == sorted(sequence) for sequence in names_by_person(fake.requests()).values())
    assert min(request.received_at for request in successes) >= started + outage
    assert max(Delivery.objects.values_list("attempt_count", flat=True)) >= 4


def test_5xx_for_a_while_then_recovery_delivers_everything_once_in_order(fake, celery):
    outage_then_recovery(fake, celery, outage=5)


def test_5xx_for_a_full_minute_then_recovery_delivers_everything_once_in_order(fake, celery):
    outage_then_recovery(
        fake, celery, outage=60, DELIVERY_RETRY_BASE_SECONDS=2, DELIVERY_RETRY_MAX_SECONDS=15
    )


def test_a_worker_killed_mid_batch_loses_nothing(fake, celery):
    # Given a slow Customer.io and forty events of four people
    destination = make_destination()
    people = ["ann", "bob", "cat", "dan"]
    names = [f"Step {index:02}" for index in range(10)]
    for name, person in itertools.product(names, people):
        make_delivery(destination, track(person, name))
    fake.answer(200, delay=0.2)
    first = celery.worker(fake, name="doomed", DELIVERY_SEND_CONCURRENCY=4)
    doorbell.ring([destination.pk], force=True)
    # When the worker is killed with SIGKILL in the middle of it
    wait_until(lambda: len(fake.requests()) >= 8, timeout=30, message="the worker never started sending")
    first.kill()
    killed_at, sent_before_kill = time.time(), len(fake.requests())
    assert Delivery.objects.filter(status__in=Delivery.OPEN).exclude(claimed_by="").exists()
    # And another worker and the sweeper take over
    celery.worker(fake, name="survivor", DELIVERY_SEND_CONCURRENCY=4)
    celery.beat(fake)
    wait_for_all(destination, 40)
    # Then every event was delivered, in order per person
    assert Delivery.objects.filter(status="delivered").count() == 40
    for person, sequence in names_by_person(fake.requests()).items():
        assert first_occurrences(sequence) == names, person
    # And the only repeats are sends that reached Customer.io before the kill and were not recorded
    received = [(request.path, request.json["name"]) for request in fake.requests()]
    repeats = {event for event in received if received.count(event) > 1}
    first_sent = {}
    for request in fake.requests():
        first_sent.setdefault((request.path, request.json["name"]), request.received_at)
    assert all(first_sent[event] < killed_at for event in repeats)
    print(f"\nrepeated after SIGKILL: {len(received) - 40} of the {sent_before_kill} sent before it")
    assert len(received) - 40 <= sent_before_kill


def test_lost_broker_messages_lose_nothing(fake, celery):
    # Given pending deliveries whose doorbell message is lost (Redis flushed / queue files deleted)
    destination = make_destination()
    for index in range(10):
        make_delivery(destination, track(f"p{index}", "Order"))
    doorbell.ring([destination.pk], force=True)
    lose_broker_messages()
    # When a worker starts, nothing tells it about the work
    celery.worker(fake)
    time.sleep(1)
    assert fake.requests() == []
    # Then the sweeper finds the work in the database and it is all delivered, once
    celery.beat(fake)
    wait_for_all(destination, 10)
    assert len(fake.requests()) == 10
    assert Delivery.objects.filter(status="delivered").count() == 10


def test_a_429_storm_slows_delivery_down_instead_of_failing_it(fake, celery):
    # Given Customer.io answers 429 with Retry-After: 1 to everything for three seconds
    destination = make_destination()
    for index in range(30):
        make_delivery(destination, track(f"p{index % 10}", f"E{index:02}"))
    celery.worker(fake, name="one")
    celery.worker(fake, name="two")
    celery.beat(fake)
    fake.answer(429, headers={"Retry-After": "1"}, seconds=3)
    storm_ends = time.time() + 3
    # When workers deliver through it
    doorbell.ring([destination.pk], force=True)
    wait_for_all(destination, 30)
    # Then nothing failed, and the storm got a few requests a second instead of a flood
    assert Delivery.objects.filter(status="delivered").count() == 30
    throttled = fake.requests(status=429)
    print(f"\n429 answers during the 3 s storm: {len(throttled)}")
    assert throttled and len(throttled) <= 4 * 2 * 8
    assert min(request.received_at for request in fake.requests(status=200)) >= storm_ends - 0.1
    for person, sequence in names_by_person(fake.requests(status=200)).items():
        assert sequence == sorted(sequence), person


def test_the_rate_limit_holds_across_workers(fake, celery):
    # Given a destination limited to 20 requests a second and sixty events
    destination = make_destination(rate_limit_per_second=20)
    for index in range(60):
        make_delivery(destination, track(f"p{index}", "Order"))
    fake.answer(200, delay=0.05)
    # When two workers deliver them
    celery.worker(fake, name="one")
    celery.worker(fake, name="two")
    doorbell.ring([destination.pk], force=True)
    doorbell.ring([destination.pk], force=True)
    wait_for_all(destination, 60)
    # Then no second saw more than 20 requests start (one more at a window's edge), and all went. The
    # start times are the relay's own: arrival times at the fake would also measure a loaded machine.
    times = sorted(
        started.timestamp() for started in SentRequest.objects.values_list("started_at", flat=True)
    )
    assert len(fake.requests()) == 60
    busiest = max(sum(1 for moment in times if start <= moment < start + 1) for start in times)
    assert busiest <= 21
    assert times[-1] - times[0] >= 59 / 20 - 0.1
    assert Delivery.objects.filter(status="delivered").count() == 60


def test_replayed_deliveries_go_again_with_current_settings(fake, celery):
    from delivery.engine.replay import replay

    destination = make_destination(
        event_filtering=Destination.EventFiltering.DENYLIST, denylisted_events=["Order"]
    )
    delivery = make_delivery(destination, track("ann", "Order"))
    celery.worker(fake)
    doorbell.ring([destination.pk], force=True)
    wait_for_all(destination, 1)
    assert Delivery.objects.get().status == "filtered"
    Destination.objects.filter(pk=destination.pk).update(denylisted_events=[])
    assert replay([delivery.pk]) == 1
    wait_until(
        lambda: Delivery.objects.get().status == "delivered",
        timeout=30,
        message="the replay was not delivered",
    )
    assert len(fake.requests()) == 1
    assert Delivery.objects.get().replay_count == 1


def test_events_posted_to_the_ingestion_api_reach_customerio(fake, celery, client):
    # Given a source connected to a destination, and a worker
    destination = make_destination()
    source = destination.sources.get()
    celery.worker(fake)
    auth = "Basic " + base64.b64encode(f"{source.write_key}:".encode()).decode()
    # When an SDK sends a batch through the ingestion API
    batch = {
        "batch": [
            {"type": "identify", "userId": "ann", "traits": {"plan": "pro"}},
            {"type": "track", "userId": "ann", "event": "Paid", "properties": {"total": 5}},
        ]
    }
    response = client.post("/v1/batch", batch, content_type="application/json", HTTP_AUTHORIZATION=auth)
    assert response.status_code == 200
    # Then both arrive at Customer.io, in order, and the log says delivered
    wait_for_all(destination, 2)
    assert [request.path for request in fake.requests()] == [
        "/api/v1/customers/ann",
        "/api/v1/customers/ann/events",
    ]
    assert list(Delivery.objects.values_list("status", flat=True)) == ["delivered", "delivered"]


@pytest.mark.skipif(not settings.CELERY_EMBEDDED_BROKER, reason="the embedded broker's message files only")
def test_an_unreadable_broker_message_is_dropped_and_the_worker_goes_on(fake, celery):
    # Given the queue folder holding what a full disk leaves: an empty message file and a cut one,
    # first in the queue, before a real doorbell message
    queue = settings.BROKER_DIR / "queue"
    (queue / "1_empty.celery.msg").write_bytes(b"")
    (queue / "2_cut.celery.msg").write_bytes(b'{"body": "eyJ')
    destination = make_destination()
    make_delivery(destination, track("ann", "Order"))
    doorbell.ring([destination.pk], force=True)
    # When a worker reads the queue
    worker = celery.worker(fake)
    wait_for_all(destination, 1)
    # Then it dropped both with a warning, delivered the event, and is still running. The broker reads
    # files in name order, so the doorbell's file may come first: wait for the drops as well.
    wait_until(
        lambda: worker.log().count("that cannot be read") == 2 and not any(queue.iterdir()),
        timeout=30,
        message=f"the worker did not drop both unreadable files: {sorted(p.name for p in queue.iterdir())}",
    )
    assert worker.alive
    assert worker.log().count("that cannot be read") == 2
    assert len(fake.requests()) == 1

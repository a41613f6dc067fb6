"""Replay keeps a person's order: an older delivery replayed goes before the later ones put back with it,
in the engine run here and with a real worker; a replay starts a new run for the retry horizon."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from delivery.engine import doorbell, replay
from delivery.engine import loop as engine
from delivery.models import Delivery
from tests.engine.test_end_to_end import wait_for_all
from tests.support.factories import identify, make_delivery, make_destination, reload, track
from tests.support.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

UNAUTHORIZED = {"meta": {"error": "Unauthorized request"}}


def is_identify(request) -> bool:
    return request.method == "PUT"


def kinds(requests) -> list[str]:
    return ["identify" if is_identify(request) else request.json["name"] for request in requests]


def failed_identify_then_delivered_tracks(destination, fake) -> list[Delivery]:
    """ann's identify, answered 401 once, and her two later tracks, delivered: what a replay finds."""
    deliveries = [
        make_delivery(destination, identify("ann", plan="pro")),
        make_delivery(destination, track("ann", "Signed Up")),
        make_delivery(destination, track("ann", "Paid")),
        make_delivery(destination, track("bob", "Signed Up")),
    ]
    fake.answer(401, body=UNAUTHORIZED, match=is_identify, times=1)
    return deliveries


def test_a_replay_with_the_later_ones_sends_them_again_in_the_order_received(fake, settings):
    # Given ann's identify that failed 401 and her later tracks, delivered; one delivery per claim, so
    # the claim barrier orders them across claims
    settings.DELIVERY_CLAIM_SIZE = 1
    destination = make_destination()
    ann_identify, signed_up, paid, bob = failed_identify_then_delivered_tracks(destination, fake)
    engine.deliver_due(destination.pk)
    assert [reload(delivery).status for delivery in (ann_identify, signed_up, paid, bob)] == [
        "failed",
        "delivered",
        "delivered",
        "delivered",
    ]
    sent_before = len(fake.requests())
    # When the identify is replayed with the later deliveries of the same person
    chosen = replay.plan([ann_identify.pk])
    assert [later.pk for later in chosen.later] == [signed_up.pk, paid.pk]
    assert replay.replay_plan(chosen, with_later=True, by="kim") == [ann_identify.pk, signed_up.pk, paid.pk]
    engine.deliver_due(destination.pk)
    # Then Customer.io gets the identify, then the tracks, in their original order; bob's is not resent
    again = fake.requests()[sent_before:]
    assert kinds(again) == ["identify", "Signed Up", "Paid"]
    assert all(request.path.startswith("/api/v1/customers/ann") for request in again)
    assert [reload(delivery).status for delivery in (ann_identify, signed_up, paid)] == ["delivered"] * 3
    # And each of them counts every attempt: the first run's and the replay's
    assert [reload(delivery).attempt_count for delivery in (ann_identify, signed_up, paid)] == [2, 2, 2]
    assert reload(signed_up).replays[0]["by"] == "kim"


def test_a_replay_of_the_older_one_alone_leaves_the_later_ones_delivered(fake):
    destination = make_destination()
    ann_identify, signed_up, paid, _ = failed_identify_then_delivered_tracks(destination, fake)
    engine.deliver_due(destination.pk)
    # When only the identify is replayed
    assert replay.replay([ann_identify.pk]) == 1
    # Then the later ones stay as they were: delivered, not replayed
    assert [(reload(d).status, reload(d).replay_count) for d in (signed_up, paid)] == [("delivered", 0)] * 2


def test_an_instrumentation_error_is_left_out_of_a_replay(fake):
    # Given a track the transformer refused (its properties are not an object) and one Customer.io refused
    destination = make_destination()
    refused = make_delivery(destination, {**track("ann", "Viewed"), "properties": "not an object"})
    answered = make_delivery(destination, track("bob", "Paid"))
    fake.answer(400, match=lambda request: request.json.get("name") == "Paid")
    engine.deliver_due(destination.pk)
    assert reload(refused).reason.startswith("Instrumentation error:")
    assert reload(answered).status == "failed"
    # When both are replayed
    chosen = replay.plan([refused.pk, answered.pk])
    # Then only Customer.io's refusal goes again; the instrumentation error is left out and counted
    assert (chosen.replayable, chosen.unchangeable, chosen.skipped) == ([answered.pk], [refused.pk], 0)
    assert replay.replay([refused.pk, answered.pk]) == 1
    assert (reload(refused).status, reload(refused).replay_count) == ("failed", 0)
    assert reload(answered).status == "pending"


def test_a_replay_starts_a_new_retry_horizon(fake, settings):
    # Given a delivery that gave up hours ago after five attempts
    settings.DELIVERY_RETRY_BASE_SECONDS = 10.0
    destination = make_destination()
    long_ago = timezone.now() - timedelta(hours=5)
    delivery = make_delivery(
        destination,
        track("ann", "Paid"),
        status="failed",
        attempt_count=5,
        first_attempt_at=long_ago,
        run_attempt_count=5,
        run_first_attempt_at=long_ago,
        reason="Gave up after 5 attempts over 3.0 h. Last: Customer.io answered 503",
    )
    # When it is replayed and Customer.io answers 503 again
    replay.replay([delivery.pk])
    fake.answer(503)
    engine.deliver_due(destination.pk)
    # Then it waits for another try (the new run has one attempt), rather than giving up at once
    again = reload(delivery)
    assert again.status == "retrying", again.reason
    assert (again.run_attempt_count, again.attempt_count, again.first_attempt_at) == (1, 6, long_ago)
    assert again.run_first_attempt_at > long_ago


@pytest.mark.slow
def test_with_a_worker_the_replayed_identify_reaches_customerio_before_the_later_track(fake, celery):
    # Given ann's identify that Customer.io answered 401, and her later track, delivered, by a real worker
    destination = make_destination()
    ann_identify = make_delivery(destination, identify("ann", plan="pro"))
    signed_up = make_delivery(destination, track("ann", "Signed Up"))
    fake.answer(401, body=UNAUTHORIZED, match=is_identify, times=1)
    celery.worker(fake)
    doorbell.ring([destination.pk], force=True)
    wait_for_all(destination, 2)
    assert [reload(ann_identify).status, reload(signed_up).status] == ["failed", "delivered"]
    # When the identify is replayed with the later one
    assert replay.replay([ann_identify.pk], with_later=True) == 2
    wait_until(
        lambda: all(reload(d).status == "delivered" for d in (ann_identify, signed_up)),
        timeout=30,
        message="the replays were not delivered",
    )
    # Then Customer.io received the identify, then the track, as the events were meant
    assert kinds(fake.requests()) == ["identify", "Signed Up", "identify", "Signed Up"]
    assert [request.status for request in fake.requests()][2:] == [200, 200]


def test_each_persons_later_ones_count_from_that_persons_own_replayed_delivery():
    # Given bob's delivered track, then ann's failed identify, then bob's failed identify, then the
    # later deliveries of both, delivered; and one of ann's to another destination
    destination, other = make_destination(), make_destination(name="Other")
    bob_before = make_delivery(destination, track("bob", "Early"), status="delivered")
    ann_failed = make_delivery(destination, identify("ann"), status="failed", reason="answered 401")
    bob_failed = make_delivery(destination, identify("bob"), status="failed", reason="answered 401")
    ann_later = make_delivery(destination, track("ann", "Paid"), status="delivered")
    bob_later = make_delivery(destination, track("bob", "Paid"), status="delivered")
    make_delivery(other, track("ann", "Elsewhere"), status="delivered")
    # When both failures are planned for a replay
    chosen = replay.plan([ann_failed.pk, bob_failed.pk])
    # Then the later ones are each person's after their own failure, to the same destination only:
    # bob's earlier track, though after ann's failure, is not one of them
    assert [later.pk for later in chosen.later] == [ann_later.pk, bob_later.pk]
    assert bob_before.pk not in [later.pk for later in chosen.later]

"""Every stage of the engine, run in the test process against the fake Customer.io (no worker)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from delivery.engine import loop as engine
from delivery.models import Delivery, DeliveryAttempt, SentRequest
from destinations.customerio import transform
from destinations.models import Destination
from destinations.rudderstack_config import transform_config
from tests.support.factories import API_KEY, SITE_ID, identify, make_delivery, make_destination, reload, track

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.DELIVERY_RETRY_BASE_SECONDS = 10.0


def expected_requests(destination: Destination, message: dict) -> list:
    return transform(message, transform_config(destination))


def statuses(*deliveries: Delivery) -> list[str]:
    return [reload(delivery).status for delivery in deliveries]


def test_v1_events_arrive_as_the_transformer_built_them_and_are_logged(fake):
    # Given two people's events, pending
    destination = make_destination()
    deliveries = [
        make_delivery(destination, identify("ann", plan="pro")),
        make_delivery(destination, track("ann", "Signed Up", source="ad")),
        make_delivery(destination, track("bob", "Signed Up")),
    ]
    # When the engine runs for the destination
    engine.deliver_due(destination.pk)
    # Then Customer.io received exactly the transformer's requests, each once, with our headers
    received = {(request.method, request.path): request for request in fake.requests()}
    assert len(fake.requests()) == 3
    for delivery in deliveries:
        (request,) = expected_requests(destination, delivery.event.payload)
        got = received[(request.method, request.endpoint.removeprefix("https://track.customer.io"))]
        assert got.json == request.body
        assert (
            got.headers["Authorization"]
            == "Basic " + base64.b64encode(f"{SITE_ID}:{API_KEY}".encode()).decode()
        )
        assert got.headers["Content-Type"] == "application/json"
        assert got.headers["User-Agent"].startswith("cio-relay/")
    # And each delivery is delivered, with one attempt logged and the secret kept out of the log
    for delivery in deliveries:
        delivery = reload(delivery)
        assert (delivery.status, delivery.attempt_count, delivery.last_status_code) == ("delivered", 1, 200)
        assert delivery.finished_at is not None and delivery.claimed_by == ""
        assert delivery.requests[0]["headers"]["Authorization"] == "[redacted]"
        attempt = delivery.sent_requests.get()
        assert attempt.request_headers["Authorization"] == "[redacted]"
        assert attempt.status_code == 200 and attempt.duration_ms is not None
        assert API_KEY not in json.dumps(delivery.requests) + attempt.request_body + str(
            attempt.request_headers
        )
    assert Destination.objects.get(pk=destination.pk).last_delivered_at is not None


def test_a_persons_events_go_one_after_another(fake):
    # Given ann's three events, and a slow Customer.io
    destination = make_destination()
    fake.answer(200, delay=0.05)
    names = [f"Step {index}" for index in range(6)]
    for name in names:
        make_delivery(destination, track("ann", name))
    # When delivered
    engine.deliver_due(destination.pk)
    # Then they arrived in the order received, never two at once
    received = fake.requests()
    assert [request.json["name"] for request in received] == names


def test_v2_mode_sends_one_batch_and_a_207_fails_only_the_named_item(fake):
    # Given three events for a v2 destination, and Customer.io rejecting the second item
    destination = make_destination(api_version="v2")
    deliveries = [make_delivery(destination, track(f"p{index}", "Order")) for index in range(3)]
    error = {"batch_index": 1, "reason": "invalid", "field": "name", "message": "too long"}
    fake.answer(207, body={"errors": [error]})
    # When delivered
    engine.deliver_due(destination.pk)
    # Then one request carried all three, in order
    (batch,) = fake.requests()
    assert batch.path == "/api/v2/batch"
    assert [item["identifiers"]["id"] for item in batch.json["batch"]] == ["p0", "p1", "p2"]
    # And the named item failed with Customer.io's reason, the others were delivered
    assert statuses(*deliveries) == ["delivered", "failed", "delivered"]
    assert reload(deliveries[1]).reason == (
        "Customer.io rejected this item: reason: invalid, field: name, message: too long"
    )
    attempt = SentRequest.objects.get()
    outcomes = dict(attempt.delivery_attempts.values_list("delivery_id", "outcome"))
    assert outcomes == {
        deliveries[0].pk: "delivered",
        deliveries[1].pk: "failed",
        deliveries[2].pk: "delivered",
    }


def test_a_400_fails_at_once_with_the_answer_cut_to_the_configured_length(fake, settings):
    settings.DELIVERY_RESPONSE_BODY_LIMIT = 40
    destination = make_destination()
    delivery = make_delivery(destination, track("ann", "Order"))
    fake.answer(400, body={"meta": {"error": "bad " + "x" * 200}})
    engine.deliver_due(destination.pk)
    delivery = reload(delivery)
    assert (delivery.status, delivery.attempt_count, delivery.last_status_code) == ("failed", 1, 400)
    assert delivery.reason.startswith('Customer.io answered 400: {"meta": {"error": "bad xxx')
    attempt = delivery.sent_requests.get()
    assert attempt.response_body.endswith("...")
    assert len(attempt.response_body) == 40 + len("...")
    assert len(fake.requests()) == 1


def test_a_401_marks_the_credentials_rejected_until_the_next_success(fake):
    # Given Customer.io rejects the credentials once
    destination = make_destination()
    first = make_delivery(destination, track("ann", "Order"))
    fake.answer(401, body={"meta": {"error": "Unauthorized request"}}, times=1)
    engine.deliver_due(destination.pk)
    # Then the delivery failed and the destination shows the rejection
    assert reload(first).status == "failed"
    rejected = Destination.objects.get(pk=destination.pk)
    assert rejected.credentials_rejected_at is not None
    assert "401" in rejected.last_error and rejected.last_error_at is not None
    # When the next delivery succeeds, the mark is cleared
    make_delivery(destination, track("bob", "Order"))
    engine.deliver_due(destination.pk)
    healthy = Destination.objects.get(pk=destination.pk)
    assert healthy.credentials_rejected_at is None
    assert healthy.last_delivered_at is not None


def test_a_500_is_retried_later_and_holds_the_persons_later_events(fake):
    # Given ann's first event meets a 500, and bob's goes through
    destination = make_destination()
    ann_first = make_delivery(destination, identify("ann"))
    ann_second = make_delivery(destination, track("ann", "Second"))
    bob = make_delivery(destination, track("bob", "First"))
    fake.answer(500, body="upstream down", path="/api/v1/customers/ann", times=1)
    # When delivered
    engine.deliver_due(destination.pk)
    # Then ann's first waits for a retry, her second was not sent (released unchanged), bob's went
    first = reload(ann_first)
    assert (first.status, first.attempt_count, first.reason) == (
        "retrying",
        1,
        "Customer.io answered 500: upstream down",
    )
    assert (
        timezone.now() + timedelta(seconds=7) < first.next_attempt_at < timezone.now() + timedelta(seconds=13)
    )
    second = reload(ann_second)
    assert (second.status, second.attempt_count, second.claimed_by) == ("pending", 0, "")
    assert reload(bob).status == "delivered"
    # (ann's and bob's requests go in parallel: which went first is not fixed, what went is)
    sent = sorted(request.path for request in fake.requests())
    assert sent == ["/api/v1/customers/ann", "/api/v1/customers/bob/events"]
    # When the retry is due, both of ann's go, in order
    Delivery.objects.filter(pk=ann_first.pk).update(next_attempt_at=timezone.now())
    engine.deliver_due(destination.pk)
    assert statuses(ann_first, ann_second) == ["delivered", "delivered"]
    ann_paths = [request.path for request in fake.requests() if "/ann" in request.path]
    assert ann_paths == ["/api/v1/customers/ann", "/api/v1/customers/ann", "/api/v1/customers/ann/events"]
    assert reload(ann_first).attempt_count == 2


def test_gives_up_after_the_horizon_and_three_attempts(fake):
    destination = make_destination(retry_horizon=timedelta(seconds=1))
    delivery = make_delivery(destination, track("ann", "Order"))
    fake.answer(503, body="maintenance")
    for _ in range(3):
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        engine.deliver_due(destination.pk)
    delivery = reload(delivery)
    assert delivery.status == "failed"
    assert delivery.attempt_count == 3
    assert delivery.reason.startswith("Gave up after 3 attempts over ")
    assert delivery.reason.endswith("Last: Customer.io answered 503: maintenance")
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 3


def test_a_stalled_answer_times_out_and_is_retried(fake, settings):
    settings.CIO_READ_TIMEOUT = 0.3
    destination = make_destination()
    delivery = make_delivery(destination, track("ann", "Order"))
    fake.answer(200, delay=1.0, times=1)
    engine.deliver_due(destination.pk)
    delivery = reload(delivery)
    assert delivery.status == "retrying"
    assert delivery.last_status_code is None
    assert "did not answer in time" in delivery.reason
    assert "ReadTimeout" in delivery.sent_requests.get().error


def test_filtered_deliveries_say_which_rule_and_are_never_sent(fake):
    destination = make_destination(
        event_filtering=Destination.EventFiltering.DENYLIST,
        denylisted_events=["Spam"],
        onetrust_cookie_categories=["C0004"],
    )
    spam = make_delivery(destination, track("ann", "Spam"))
    denied = make_delivery(
        destination,
        {**track("bob", "Order"), "context": {"consentManagement": {"deniedConsentIds": ["C0004"]}}},
    )
    engine.deliver_due(destination.pk)
    assert statuses(spam, denied) == ["filtered", "filtered"]
    assert reload(spam).reason == 'Filtered by event filtering: "Spam" is in the denylist'
    assert reload(denied).reason == 'Filtered by consent: OneTrust category "C0004" is denied'
    assert reload(spam).finished_at is not None
    assert fake.requests() == []


def test_a_transform_error_fails_at_once_with_the_transformers_message(fake):
    destination = make_destination()
    anonymous_identify = make_delivery(destination, {"type": "identify", "anonymousId": "a1", "traits": {}})
    engine.deliver_due(destination.pk)
    delivery = reload(anonymous_identify)
    assert delivery.status == "failed"
    assert delivery.attempt_count == 0
    assert delivery.reason.startswith("Instrumentation error: ")
    assert fake.requests() == []


def test_a_configuration_error_fails_every_delivery_with_its_message(fake):
    destination = make_destination()
    Destination.objects.filter(pk=destination.pk).update(site_id="")
    delivery = make_delivery(destination, track("ann", "Order"))
    engine.deliver_due(destination.pk)
    assert reload(delivery).status == "failed"
    assert reload(delivery).reason == "Configuration error: siteID not found in Configs"


def test_a_429_holds_the_whole_destination_back_for_retry_after(fake, settings):
    # Given Customer.io answers the first request with 429 and Retry-After: 1
    settings.DELIVERY_SEND_CONCURRENCY = 1
    destination = make_destination()
    for index in range(3):
        make_delivery(destination, track(f"p{index}", "Order"))
    fake.answer(429, headers={"Retry-After": "1"}, times=1)
    # When delivered, one at a time so the 429 comes before the others are sent
    engine.deliver_due(destination.pk)
    throttled, *others = fake.requests()
    # Then nothing else was sent for about a second after it
    assert throttled.status == 429
    assert others and min(request.received_at for request in others) - throttled.received_at >= 0.9


def test_a_disabled_destination_filters_what_is_left(fake):
    destination = make_destination(enabled=False)
    delivery = make_delivery(destination, track("ann", "Order"))
    engine.deliver_due(destination.pk)
    assert reload(delivery).status == "filtered"
    assert fake.requests() == []


def test_a_worker_whose_claim_was_taken_over_does_not_overwrite_newer_state(fake):
    # Given a claim that went stale and was taken by another worker while this one was sending
    from concurrent.futures import ThreadPoolExecutor

    from delivery.engine import claims
    from delivery.engine.ratelimit import limiter

    destination = make_destination()
    delivery = make_delivery(destination, track("ann", "Order"))
    ids = claims.claim(destination, "slow-worker", limit=10)
    Delivery.objects.filter(pk=delivery.pk).update(claimed_by="new-owner")
    # When the slow worker finishes and records
    with ThreadPoolExecutor(max_workers=2) as pool:
        engine.process_claim(destination, ids, engine.Run("slow-worker", pool, limiter()))
    # Then the delivery's state is the new owner's (it was not even loaded), nothing was sent
    assert reload(delivery).claimed_by == "new-owner"
    assert reload(delivery).status == "pending"
    assert fake.requests() == []


def test_recording_is_conditional_on_still_holding_the_claim(fake, monkeypatch):
    # Given the claim is taken over while the request is in flight
    destination = make_destination()
    delivery = make_delivery(destination, track("ann", "Order"))

    def take_over(request):  # runs in the fake server's thread, on its own connection
        Delivery.objects.filter(pk=delivery.pk).update(claimed_by="new-owner")
        connection.close()
        return False

    fake.answer(200, match=take_over)
    # When the first worker records its result
    engine.deliver_due(destination.pk)
    # Then the attempt is in the log, but the delivery's state was left to its new owner
    after = reload(delivery)
    assert (after.status, after.claimed_by, after.attempt_count) == ("pending", "new-owner", 0)
    assert SentRequest.objects.filter(deliveries=delivery).count() == 1


def test_a_claim_stops_sending_at_half_the_claim_timeout_and_gives_the_rest_back(fake, settings):
    # Given a claim timeout of 2 s and a Customer.io that takes 0.4 s per request, one at a time
    from concurrent.futures import ThreadPoolExecutor

    from delivery.engine import claims
    from delivery.engine.ratelimit import limiter

    settings.DELIVERY_CLAIM_TIMEOUT_SECONDS = 2
    settings.DELIVERY_SEND_CONCURRENCY = 1
    fake.answer(200, delay=0.4)
    destination = make_destination()
    deliveries = [make_delivery(destination, track(f"p{index}", "Order")) for index in range(10)]
    ids = claims.claim(destination, "worker", limit=10)
    # When the claim is processed
    with ThreadPoolExecutor(max_workers=1) as pool:
        engine.process_claim(destination, ids, engine.Run("worker", pool, limiter()))
    # Then it sent for about a second, and gave back what it had not sent, unchanged
    sent = len(fake.requests())
    assert 2 <= sent <= 4
    after = [reload(delivery) for delivery in deliveries]
    assert [delivery.status for delivery in after].count("delivered") == sent
    assert all(delivery.claimed_by == "" for delivery in after)
    assert all(delivery.attempt_count == 0 for delivery in after if delivery.status == "pending")


def test_a_huge_retry_after_waits_five_minutes_and_sends_once(fake):
    # Given Customer.io answering 503 with a Retry-After no date can hold
    destination = make_destination()
    delivery = make_delivery(destination, track("ann", "Order"))
    fake.answer(503, headers={"Retry-After": "99999999999999"})
    before = timezone.now()
    # When delivered
    engine.deliver_due(destination.pk)
    # Then it was sent once, the attempt is recorded, and it waits the capped five minutes
    delivery = reload(delivery)
    assert len(fake.requests()) == 1
    assert (delivery.status, delivery.attempt_count) == ("retrying", 1)
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 1
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 299 <= wait <= 301


def test_a_wait_that_cannot_be_computed_is_still_an_attempt_not_a_resend(fake, monkeypatch):
    # Given a retry whose Retry-After cannot be turned into a date (as once happened before the cap)
    from delivery.engine import retry

    plain = retry.next_attempt_at

    def overflowing(*, retry_after=None, **timing):
        if retry_after is not None:
            raise OverflowError("date value out of range")
        return plain(**timing)

    monkeypatch.setattr(retry, "next_attempt_at", overflowing)
    destination = make_destination()
    delivery = make_delivery(destination, track("ann", "Order"))
    fake.answer(503, headers={"Retry-After": "60"})
    # When delivered
    engine.deliver_due(destination.pk)
    # Then it was sent once and waits the usual backoff, with the attempt recorded
    delivery = reload(delivery)
    assert len(fake.requests()) == 1
    assert (delivery.status, delivery.attempt_count) == ("retrying", 1)
    assert delivery.attempts.count() == 1

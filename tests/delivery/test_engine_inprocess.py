"""The engine's stages, run in the test process against the fake Customer.io (no worker)."""

from __future__ import annotations

import pytest

from delivery import engine
from delivery.models import Attempt, Delivery
from tests.delivery.conftest import identify, make_delivery, make_destination, reload, track

pytestmark = pytest.mark.django_db(transaction=True)


def test_v1_deliveries_reach_customerio_in_order_and_are_logged(fake):
    # Given two people's events, pending
    destination = make_destination()
    deliveries = [
        make_delivery(destination, identify("ann", plan="pro")),
        make_delivery(destination, track("ann", "Signed Up")),
        make_delivery(destination, track("bob", "Signed Up")),
    ]
    # When the engine runs for the destination
    engine.deliver_due(destination.pk)
    # Then each was sent once and is delivered
    assert len(fake.requests()) == 3
    for delivery in deliveries:
        delivery = reload(delivery)
        assert delivery.status == Delivery.Status.DELIVERED
        assert delivery.attempts == 1
    assert Attempt.objects.count() == 3
    ann = [request.path for request in fake.requests() if "ann" in request.path]
    assert ann == ["/api/v1/customers/ann", "/api/v1/customers/ann/events"]

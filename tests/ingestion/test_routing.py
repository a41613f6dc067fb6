"""The integrations object decides which connected destinations get a pending delivery."""

from __future__ import annotations

import pytest

from delivery.engine.filters import integrations_exclusion
from delivery.models import Delivery
from destinations.models import Destination
from tests.ingestion.conftest import track

NAME = "Customer.io production"


@pytest.mark.parametrize(
    "integrations",
    [
        None,
        {},
        {"All": True},
        {"All": False, "Customer.io": True},
        {"All": False, "CUSTOMERIO": {"sendAnonymousId": True}},
        {"All": False, "customerio": True},
        {"All": False, "Customer IO": True},
        {"All": False, NAME: True},
        {"All": False, "customer.io-production": True},
        {"Braze": False},
    ],
)
def test_these_integrations_let_the_event_through(integrations):
    assert integrations_exclusion({"integrations": integrations}, NAME) is None


@pytest.mark.parametrize(
    "key", ["Customer.io", "CUSTOMERIO", "customerio", "Customer IO", "customer_io", NAME]
)
def test_naming_the_destination_false_excludes_it_under_any_spelling(key):
    reason = integrations_exclusion({"integrations": {"All": True, key: False}}, NAME)
    assert reason == f'Filtered by the event\'s integrations object: "{key}" is false'


def test_all_false_without_the_destination_named_excludes_it():
    reason = integrations_exclusion({"integrations": {"All": False, "Braze": True}}, NAME)
    assert reason == (
        'Filtered by the event\'s integrations object: "All" is false and neither "Customer.io" nor '
        '"Customer.io production" is set to true'
    )


def test_an_explicit_false_wins_over_an_explicit_true_for_the_same_destination():
    assert integrations_exclusion({"integrations": {"Customer.io": True, NAME: False}}, NAME) is not None


def test_integrations_that_are_not_an_object_exclude_nothing():
    assert integrations_exclusion({"integrations": ["All"]}, NAME) is None


@pytest.mark.django_db
def test_an_excluded_destination_gets_a_filtered_delivery_with_the_reason(sender, destination, rings):
    # When an event excludes the destination by its type name
    response = sender.post("/v1/track", track(integrations={"Customer.io": False}))
    # Then the delivery is stored finished, filtered, with a reason a person can read, and nobody is woken
    assert response.status_code == 200
    delivery = Delivery.objects.get()
    assert delivery.status == "filtered"
    assert delivery.finished_at == delivery.created_at
    assert delivery.reason == 'Filtered by the event\'s integrations object: "Customer.io" is false'
    assert rings == []


@pytest.mark.django_db
def test_all_false_with_the_destination_true_is_delivered(sender, destination, rings):
    sender.post("/v1/track", track(integrations={"All": False, "Customer.io": True}))
    assert Delivery.objects.get().status == "pending"
    assert rings == [[destination.id]]


@pytest.mark.django_db
def test_the_destinations_own_name_is_matched(sender, destination):
    sender.post("/v1/track", track(integrations={"All": False, "customer.io production": True}))
    assert Delivery.objects.get().status == "pending"


@pytest.mark.django_db
def test_disabled_and_unconnected_destinations_get_no_delivery(sender, source, destination, rings):
    # Given a disabled destination connected to the source, and an enabled one not connected
    disabled = Destination.objects.create(name="Old workspace", site_id="s", api_key="k", enabled=False)
    disabled.sources.add(source)
    Destination.objects.create(name="Other team", site_id="s", api_key="k")
    # When an event arrives
    sender.post("/v1/track", track())
    # Then only the connected, enabled destination has a delivery
    assert list(Delivery.objects.values_list("destination__name", flat=True)) == [destination.name]
    assert rings == [[destination.id]]

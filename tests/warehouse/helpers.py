"""Warehouse sources for tests, and what the fake Customer.io received, read as (action, id) pairs."""

from __future__ import annotations

from typing import Any

from delivery.engine import loop as engine
from delivery.models import Delivery
from destinations.models import Destination
from destinations.warehouse.models import WarehouseSource
from tests.support.factories import make_destination
from tests.support.fake_customerio import FakeCustomerIO

PEOPLE_QUERY = "SELECT id, email, name, plan FROM people"


def batching_destination(**fields: Any) -> Destination:
    """A v2 destination fast enough for 10,000 people: 1,000 per request, no rate limit to wait on."""
    return make_destination(api_version="v2", rate_limit_per_second=10_000, **fields)


def make_warehouse_source(url: str, destination: Destination, **fields: Any) -> WarehouseSource:
    values = {
        "name": "crm people",
        "connection_url": url,
        "query": PEOPLE_QUERY,
        "identifier_column": "id",
        **fields,
    }
    warehouse = WarehouseSource(**values)
    warehouse.full_clean(exclude=["source"])
    warehouse.save()
    warehouse.source.destinations.set([destination])
    return warehouse


def deliver_everything(destination: Destination) -> None:
    """Run the engine in this process until no delivery of the destination is open."""
    for _ in range(100):
        if not Delivery.objects.filter(destination=destination, status__in=Delivery.OPEN).exists():
            return
        engine.deliver_due(destination.pk)
    raise AssertionError("deliveries stayed open")


def received_people(fake: FakeCustomerIO) -> list[tuple[str, str, dict]]:
    """Each person Customer.io was told about: (action, id, attributes), in the order received."""
    people = []
    for request in fake.requests():
        body = request.json or {}
        for item in body.get("batch", []) if request.path.startswith("/api/v2/batch") else []:
            identifiers = item.get("identifiers") or {}
            people.append(
                (item.get("action"), str(next(iter(identifiers.values()), "")), item.get("attributes") or {})
            )
    return people

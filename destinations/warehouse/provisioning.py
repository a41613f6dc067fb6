"""Creating a warehouse source outside the admin (the add_warehouse_source command)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from destinations.models import Destination
from destinations.provisioning import ProvisioningError, _one_line
from destinations.warehouse.models import WarehouseSource


def create_warehouse_source(fields: dict[str, Any], destination_names: Iterable[str]) -> WarehouseSource:
    """A warehouse source feeding the named destinations; raises ProvisioningError saying what is wrong."""
    warehouse = WarehouseSource(**fields)
    wanted = list(dict.fromkeys(name.strip() for name in destination_names))
    if not wanted:
        raise ProvisioningError("--destination is required: the Customer.io destination it feeds")
    with transaction.atomic():
        found = {destination.name: destination for destination in Destination.objects.filter(name__in=wanted)}
        unknown = [name for name in wanted if name not in found]
        if unknown:
            raise ProvisioningError(f"unknown destination: {', '.join(unknown)}")
        try:
            warehouse.full_clean(exclude=["source"])
        except ValidationError as error:
            raise ProvisioningError(_one_line(error)) from None
        warehouse.save()
        warehouse.source.destinations.set([found[name] for name in wanted])
    return warehouse

"""Creating sources, destinations and warehouse sources outside the admin (management commands, imports)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from destinations.models import Destination, Source
from destinations.warehouse.models import WarehouseSource


class ProvisioningError(Exception):
    """Something a person must fix, said in one line."""


def create_source(name: str) -> Source:
    source = Source(name=name.strip())
    _validate(source)
    source.save()
    return source


def create_destination(fields: dict[str, Any], source_names: Iterable[str] = ()) -> Destination:
    destination = Destination(**fields)
    with transaction.atomic():
        sources = _sources_named(source_names)
        _validate(destination)
        destination.save()
        destination.sources.set(sources)
    return destination


def create_warehouse_source(fields: dict[str, Any], destination_names: Iterable[str]) -> WarehouseSource:
    """A warehouse source feeding the named destinations (its own source is made by its save())."""
    warehouse = WarehouseSource(**fields)
    wanted = list(dict.fromkeys(name.strip() for name in destination_names))
    if not wanted:
        raise ProvisioningError("--destination is required: the Customer.io destination it feeds")
    with transaction.atomic():
        found = {destination.name: destination for destination in Destination.objects.filter(name__in=wanted)}
        unknown = [name for name in wanted if name not in found]
        if unknown:
            raise ProvisioningError(f"unknown destination: {', '.join(unknown)}")
        _validate(warehouse, exclude=["source"])
        warehouse.save()
        warehouse.source.destinations.set([found[name] for name in wanted])
    return warehouse


def _sources_named(names: Iterable[str]) -> list[Source]:
    wanted = list(dict.fromkeys(name.strip() for name in names))
    found = {source.name: source for source in Source.objects.filter(name__in=wanted)}
    unknown = [name for name in wanted if name not in found]
    if unknown:
        raise ProvisioningError(f"unknown source: {', '.join(unknown)}")
    return [found[name] for name in wanted]


def _validate(instance: Source | Destination | WarehouseSource, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as error:
        raise ProvisioningError(_one_line(error)) from None


def _one_line(error: ValidationError) -> str:
    parts = []
    for field, messages in error.message_dict.items():
        label = "" if field == "__all__" else f"{field}: "
        parts.append(label + " ".join(messages))
    return "; ".join(parts)

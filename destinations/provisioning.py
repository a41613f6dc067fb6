"""Creating sources and destinations outside the admin (management commands, imports)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from destinations.models import Destination, Source


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


def _sources_named(names: Iterable[str]) -> list[Source]:
    wanted = list(dict.fromkeys(name.strip() for name in names))
    found = {source.name: source for source in Source.objects.filter(name__in=wanted)}
    unknown = [name for name in wanted if name not in found]
    if unknown:
        raise ProvisioningError(f"unknown source: {', '.join(unknown)}")
    return [found[name] for name in wanted]


def _validate(instance: Source | Destination) -> None:
    try:
        instance.full_clean()
    except ValidationError as error:
        raise ProvisioningError(_one_line(error)) from None


def _one_line(error: ValidationError) -> str:
    parts = []
    for field, messages in error.message_dict.items():
        label = "" if field == "__all__" else f"{field}: "
        parts.append(label + " ".join(messages))
    return "; ".join(parts)

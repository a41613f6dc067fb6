"""Who a message is about, in the terms of Customer.io's identifiers (id, email, cio_id, anonymous_id).

With the "cioIdentifiers" setting on, a userId "cio_<x>" means the person whose cio_id is <x>, which is
how Customer.io lets you change someone's id or email, and an email-shaped userId is an email. That is
Segment's documented behaviour for its Customer.io destination; without the setting, a userId is always
an id, as in RudderStack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from destinations.customerio.checks import check_id
from destinations.customerio.config import TransformConfig
from destinations.customerio.emails import is_email
from destinations.customerio.endpoints import path_segment
from destinations.customerio.errors import InstrumentationError
from destinations.customerio.message import anonymous_id, email, present, scalar, text, user_id

CIO_ID_PREFIX = "cio_"


@dataclass(frozen=True, slots=True)
class Person:
    key: str  # "id", "email", "cio_id" or "anonymous_id"
    value: str | int | float
    field: str  # where in the message it came from, for error messages

    def identifiers(self) -> dict[str, Any]:
        return {self.key: self.value}

    def path(self) -> str:
        """The person as a v1 path segment; Customer.io reads the cio_ prefix as a cio_id."""
        prefix = CIO_ID_PREFIX if self.key == "cio_id" else ""
        return path_segment(prefix + text(self.value), self.field)


def known_person(message: dict[str, Any], config: TransformConfig) -> Person | None:
    """The userId (or another of the spec's id fields), else an email; None for an anonymous message."""
    hit = user_id(message)
    if hit is not None:
        person = _by_user_id(*hit, config)
    else:
        hit = email(message)
        if hit is None:
            return None
        person = Person("email", text(hit[1]), hit[0])
    if config.check_limits:
        check_id(person.field, person.value)
    return person


def anonymous_person(message: dict[str, Any], config: TransformConfig) -> Person | None:
    value = anonymous_id(message)
    if value is None:
        return None
    if config.check_limits:
        check_id("anonymousId", value)
    return Person("anonymous_id", value, "anonymousId")


def reference(field: str, value: str | int | float, config: TransformConfig) -> dict[str, Any]:
    """Identifiers of a person named in a merge or a relationship, where an email is always an email."""
    if config.check_limits:
        check_id(field, value)
    if config.cio_identifiers and _is_cio_id(value):
        return {"cio_id": value[len(CIO_ID_PREFIX) :]}
    return {"email" if is_email(value) else "id": value}


def merge_pair(message: dict[str, Any], config: TransformConfig) -> dict[str, Any]:
    """An alias as a merge: the previousId person (secondary) is merged into the userId person (primary).

    Reference: https://docs.customer.io/integrations/api/track/#operation/merge
    """
    primary = user_id(message)
    previous = message.get("previousId")
    if primary is None or not present(previous):
        raise InstrumentationError("an alias needs both userId and previousId to merge two people")
    return {
        "primary": reference(*primary, config),
        "secondary": reference("previousId", scalar("previousId", previous), config),
    }


def _by_user_id(field: str, value: str | int | float, config: TransformConfig) -> Person:
    if config.cio_identifiers and isinstance(value, str):
        if _is_cio_id(value):
            return Person("cio_id", value[len(CIO_ID_PREFIX) :], field)
        if is_email(value):
            return Person("email", value, field)
    return Person("id", value, field)


def _is_cio_id(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(CIO_ID_PREFIX) and len(value) > len(CIO_ID_PREFIX)

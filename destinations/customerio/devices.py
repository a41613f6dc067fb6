"""The parts of a push device that Customer.io wants, read from a mobile SDK's context.

Reference: https://docs.customer.io/integrations/api/track/#operation/add_device
"""

from __future__ import annotations

from typing import Any

from destinations.customerio.message import dig, present, scalar

# Customer.io takes "ios" or "android"; Apple's other systems push through APNs like iOS.
_APPLE_FAMILY = frozenset({"ios", "ipados", "watchos", "tvos"})

# v2 device attributes, from the context every mobile SDK sends.
_CONTEXT_ATTRIBUTES = (
    ("device_os", ("context", "os", "name")),
    ("device_model", ("context", "device", "model")),
    ("app_version", ("context", "app", "version")),
    ("device_locale", ("context", "locale")),
)


def device_token(message: dict[str, Any]) -> str | int | float | None:
    token = dig(message, ("context", "device", "token"))
    return scalar("context.device.token", token) if present(token) else None


def platform(message: dict[str, Any]) -> str | None:
    kind = dig(message, ("context", "device", "type"))
    if not isinstance(kind, str) or not kind:
        return None
    return "ios" if kind.lower() in _APPLE_FAMILY else kind.lower()


def context_attributes(message: dict[str, Any]) -> dict[str, Any]:
    found = ((name, dig(message, keys)) for name, keys in _CONTEXT_ATTRIBUTES)
    return {name: value for name, value in found if value is not None}

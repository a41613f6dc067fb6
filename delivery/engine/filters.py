"""Rules that keep an event from a destination, each saying why in words a person understands.

filter_reason() runs them in order and returns the first reason, or None when the event may go.
They run when a delivery is processed, with the destination's settings of that moment, so a
replayed delivery meets the current rules.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from destinations.models import Destination

Message = Mapping[str, Any]
Rule = Callable[[Message, Destination], str | None]


def event_filtering_reason(message: Message, destination: Destination) -> str | None:
    """RudderStack's event filtering: `track` events only, names compared exactly after trimming.

    An empty allowlist lets nothing through; an empty denylist blocks nothing.
    """
    if _text(message.get("type")).lower() != "track":
        return None
    name = _text(message.get("event"))
    if destination.event_filtering == Destination.EventFiltering.ALLOWLIST:
        allowed = _names(destination.allowlisted_events)
        if not allowed:
            return f'Filtered by event filtering: the allowlist is empty, so "{name}" is not let through'
        if name not in allowed:
            return f'Filtered by event filtering: "{name}" is not in the allowlist'
    if destination.event_filtering == Destination.EventFiltering.DENYLIST and name in _names(
        destination.denylisted_events
    ):
        return f'Filtered by event filtering: "{name}" is in the denylist'
    return None


def consent_reason(message: Message, destination: Destination) -> str | None:
    """Consent as RudderStack applies it from `context.consentManagement.deniedConsentIds`.

    Nothing is filtered when no consent is denied. OneTrust (provider "oneTrust" or none): dropped
    if any configured cookie category is denied, and then Ketch is not consulted. Ketch (provider
    "ketch" or none): dropped only if every configured purpose is denied. Ids are exact and
    case-sensitive.
    """
    consent = _mapping(_mapping(message.get("context")).get("consentManagement"))
    denied = consent.get("deniedConsentIds")
    denied_ids = (
        {item for item in denied if isinstance(item, str) and item} if isinstance(denied, list) else set()
    )
    if not denied_ids:
        return None
    provider = consent.get("provider") or ""
    categories = _names(destination.onetrust_cookie_categories, trim=False)
    if provider in ("", "oneTrust") and categories:
        refused = [category for category in categories if category in denied_ids]
        if refused:
            noun, verb = ("category", "is") if len(refused) == 1 else ("categories", "are")
            return f"Filtered by consent: OneTrust {noun} {_quoted(refused)} {verb} denied"
        return None
    purposes = _names(destination.ketch_consent_purposes, trim=False)
    if provider in ("", "ketch") and purposes and all(purpose in denied_ids for purpose in purposes):
        return f"Filtered by consent: every Ketch purpose is denied ({_quoted(purposes)})"
    return None


def destination_disabled_reason(message: Message, destination: Destination) -> str | None:
    if destination.enabled:
        return None
    return "Filtered: the destination was disabled before this event could be delivered"


DESTINATION_TYPE = "customerio"
REASON_PREFIX = "Filtered by the event's integrations object"


def normalise(name: str) -> str:
    return "".join(character for character in name.casefold() if character.isalnum())


def integrations_exclusion(message: dict[str, Any], destination_name: str) -> str | None:
    """Why the message's integrations object excludes the destination, in plain words, or None."""
    integrations = message.get("integrations")
    if not isinstance(integrations, dict):
        return None
    names = {DESTINATION_TYPE, normalise(destination_name)}
    named = [(key, value) for key, value in integrations.items() if normalise(key) in names]
    if named:
        refused = next((key for key, value in named if value is False), None)
        return (
            None
            if refused is None
            else f"{REASON_PREFIX}: {json.dumps(refused, ensure_ascii=False)} is false"
        )
    everything = next((key for key, value in integrations.items() if normalise(key) == "all"), None)
    if everything is not None and integrations[everything] is False:
        return (
            f"{REASON_PREFIX}: {json.dumps(everything, ensure_ascii=False)} is false and neither "
            f'"Customer.io" nor {json.dumps(destination_name, ensure_ascii=False)} is set to true'
        )
    return None


def integrations_reason(message: Message, destination: Destination) -> str | None:
    """The event's integrations object, checked again: the destination may have been renamed."""
    return integrations_exclusion(dict(message), destination.name)


RULES: tuple[Rule, ...] = (
    destination_disabled_reason,
    integrations_reason,
    event_filtering_reason,
    consent_reason,
)


def filter_reason(message: Message, destination: Destination) -> str | None:
    for rule in RULES:
        reason = rule(message, destination)
        if reason:
            return reason
    return None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _names(values: Iterable[Any], *, trim: bool = True) -> list[str]:
    names = (_text(value) if trim else value for value in values if isinstance(value, str))
    return [name for name in names if name]


def _quoted(names: list[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)

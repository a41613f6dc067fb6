"""The integrations-object rule: may this event go to this destination?

Segment's and RudderStack's rule: `integrations` maps destination names to true/false (or to an
options object, which means true), with `All` as the default for destinations not named. Names are
matched ignoring case and every non-alphanumeric character, against the destination type
(`customerio`, so "Customer.io", "CUSTOMERIO" and "Customer IO" all match) and against the
destination's own name. An entry naming the destination wins over `All`; if two entries name it and
one is false, false wins.

The ingestion API applies this when it stores an event; the delivery engine re-checks at send time.
"""

from __future__ import annotations

import json
from typing import Any

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

"""What the engine would do with one event for one destination, worked out without sending anything.

It calls what the engine calls: the filter rules of delivery/engine/filters.py, the transformer with the
destination's config, and the HTTP module's URL and header functions, so the preview cannot drift
from what a delivery does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from delivery.admin.display import pretty
from delivery.engine import filters
from destinations.customerio import OutgoingRequest, TransformError, transform
from destinations.models import Destination
from destinations.rudderstack_config import transform_config
from destinations.track_api import transport

RULE_NAMES = {
    filters.destination_disabled_reason: "Destination enabled",
    filters.integrations_reason: "Integrations object",
    filters.event_filtering_reason: "Event filtering",
    filters.consent_reason: "Consent (OneTrust, Ketch)",
}
# What each kind of transform error asks the reader to fix.
ERROR_ADVICE = {
    "instrumentation": "The event itself is wrong: fix the tracking code that sends it.",
    "configuration": "The destination's settings are wrong: fix them on the destination.",
}
NO_REQUEST = "The transformer makes no request for this event, so it would be recorded as filtered."


@dataclass(frozen=True)
class Verdict:
    """What the engine would do with the event, in one sentence: the page's summary.

    `outcome` is "filtered", "fail" or "send"; `headline` the words in bold, `detail` the rest.
    """

    outcome: str
    headline: str
    detail: str

    @property
    def sends(self) -> bool:
        return self.outcome == "send"


@dataclass(frozen=True)
class RuleVerdict:
    name: str
    reason: str | None


@dataclass(frozen=True)
class ShownRequest:
    """A request as it would go out: settings' base URL, wire headers with Authorization masked."""

    method: str
    url: str
    headers: dict[str, str]
    body: str
    is_batch: bool
    notes: tuple[str, ...] = ()  # what the transformer left out, and why


@dataclass(frozen=True)
class TransformFailure:
    kind: str
    title: str
    message: str

    @property
    def advice(self) -> str:
        return ERROR_ADVICE.get(self.kind, "")


@dataclass(frozen=True)
class Preview:
    rules: list[RuleVerdict]
    filtered_by: str | None
    requests: list[ShownRequest]
    failure: TransformFailure | None

    @property
    def no_request(self) -> str:
        return NO_REQUEST if not self.requests and self.failure is None else ""

    @property
    def verdict(self) -> Verdict:
        """The engine's order: a filter rule stops the event before the transformer runs; then a
        transform error fails it at once, without a request; else its requests are sent."""
        if self.filtered_by:
            return Verdict("filtered", "Would be filtered", self.filtered_by)
        if self.failure is not None:
            return Verdict(
                "fail",
                "Would fail at once, without a request",
                f"{self.failure.title}: {self.failure.message}",
            )
        if not self.requests:
            return Verdict("filtered", "Would be filtered", NO_REQUEST)
        count = len(self.requests)
        return Verdict(
            "send", f"Would be sent as {count} request{'s' if count > 1 else ''}", _to(self.requests)
        )


def preview(message: dict[str, Any], destination: Destination) -> Preview:
    """Every filter rule's verdict, the engine's (the first reason), and the transformer's requests or error.

    The transformer runs even when a rule filters the event, so a person can check the requests
    a changed setting would let through.
    """
    rules = [RuleVerdict(_rule_name(rule), rule(message, destination)) for rule in filters.RULES]
    verdict = filters.filter_reason(message, destination)
    try:
        config = transform_config(destination)
        requests = [shown(request) for request in transform(message, config)]
    except TransformError as error:
        return Preview(rules, verdict, [], TransformFailure(error.kind, error.title, error.message))
    return Preview(rules, verdict, requests, None)


def shown(request: OutgoingRequest) -> ShownRequest:
    return ShownRequest(
        method=request.method,
        url=transport.resolve_url(request.endpoint),
        headers=transport.redacted_headers(transport.wire_headers(request.headers)),
        body="" if request.body is None else pretty(request.body),
        is_batch=request.is_batch,
        notes=request.notes,
    )


def _to(requests: list[ShownRequest]) -> str:
    return (
        "no filter rule stops it; "
        + ", ".join(f"{request.method} {request.url}" for request in requests)
        + "."
    )


def _rule_name(rule: filters.Rule) -> str:
    return RULE_NAMES.get(rule, rule.__name__.removesuffix("_reason").replace("_", " ").capitalize())

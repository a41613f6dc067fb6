"""The filter rules: event filtering and consent, each with a reason a person can read."""

from __future__ import annotations

import pytest

from delivery.engine.filters import consent_reason, event_filtering_reason, filter_reason
from destinations.models import Destination

ALLOWLIST = Destination.EventFiltering.ALLOWLIST
DENYLIST = Destination.EventFiltering.DENYLIST


def destination(**fields) -> Destination:
    return Destination(name="d", site_id="s", **fields)


def track(event, **context) -> dict:
    return {"type": "track", "event": event, "context": context}


def consenting(denied, provider=None) -> dict:
    consent = {"deniedConsentIds": denied}
    if provider is not None:
        consent["provider"] = provider
    return {"type": "identify", "context": {"consentManagement": consent}}


# Event filtering


def test_allowlist_lets_listed_track_events_through_comparing_trimmed_names():
    allow = destination(event_filtering=ALLOWLIST, allowlisted_events=[" Order Completed "])
    assert event_filtering_reason(track("Order Completed  "), allow) is None
    assert event_filtering_reason(track("order completed"), allow) == (
        'Filtered by event filtering: "order completed" is not in the allowlist'
    )


def test_an_empty_allowlist_lets_nothing_through():
    allow = destination(event_filtering=ALLOWLIST, allowlisted_events=[])
    assert event_filtering_reason(track("Anything"), allow) == (
        'Filtered by event filtering: the allowlist is empty, so "Anything" is not let through'
    )


def test_denylist_blocks_listed_events_and_an_empty_one_blocks_nothing():
    deny = destination(event_filtering=DENYLIST, denylisted_events=["Spam"])
    assert (
        event_filtering_reason(track(" Spam"), deny)
        == 'Filtered by event filtering: "Spam" is in the denylist'
    )
    assert event_filtering_reason(track("Order"), deny) is None
    assert event_filtering_reason(track("Spam"), destination(event_filtering=DENYLIST)) is None


@pytest.mark.parametrize("kind", ["identify", "page", "screen", "group", "alias"])
def test_event_filtering_applies_to_track_events_only(kind):
    allow = destination(event_filtering=ALLOWLIST, allowlisted_events=[])
    assert event_filtering_reason({"type": kind, "name": "Home"}, allow) is None


def test_disabled_event_filtering_lets_everything_through():
    off = destination(allowlisted_events=[], denylisted_events=["Spam"])
    assert event_filtering_reason(track("Spam"), off) is None


# Consent


def test_nothing_is_filtered_when_no_consent_is_denied():
    both = destination(onetrust_cookie_categories=["C0004"], ketch_consent_purposes=["analytics"])
    assert consent_reason(consenting([]), both) is None
    assert consent_reason({"type": "track", "context": {}}, both) is None
    assert consent_reason(consenting(["", None]), both) is None


def test_onetrust_drops_when_any_configured_category_is_denied():
    onetrust = destination(onetrust_cookie_categories=["C0002", "C0004"])
    assert consent_reason(consenting(["C0004"]), onetrust) == (
        'Filtered by consent: OneTrust category "C0004" is denied'
    )
    assert consent_reason(consenting(["C0002", "C0004"], "oneTrust"), onetrust) == (
        'Filtered by consent: OneTrust categories "C0002", "C0004" are denied'
    )
    assert consent_reason(consenting(["C0003"]), onetrust) is None


def test_consent_ids_are_exact_and_case_sensitive():
    onetrust = destination(onetrust_cookie_categories=["C0004"])
    assert consent_reason(consenting(["c0004", "C0004 "]), onetrust) is None


def test_ketch_drops_only_when_every_configured_purpose_is_denied():
    ketch = destination(ketch_consent_purposes=["analytics", "marketing"])
    assert consent_reason(consenting(["analytics"]), ketch) is None
    assert consent_reason(consenting(["analytics", "marketing", "other"], "ketch"), ketch) == (
        'Filtered by consent: every Ketch purpose is denied ("analytics", "marketing")'
    )


def test_onetrust_decides_alone_when_configured_and_no_provider_is_named():
    both = destination(onetrust_cookie_categories=["C0004"], ketch_consent_purposes=["analytics"])
    assert consent_reason(consenting(["analytics"]), both) is None


def test_the_named_provider_picks_the_rule():
    both = destination(onetrust_cookie_categories=["C0004"], ketch_consent_purposes=["analytics"])
    assert consent_reason(consenting(["analytics"], "ketch"), both) is not None
    assert consent_reason(consenting(["C0004"], "ketch"), both) is None
    assert consent_reason(consenting(["C0004"], "custom"), both) is None


def test_filter_reason_gives_the_first_rule_that_filters():
    both = destination(
        event_filtering=DENYLIST, denylisted_events=["Spam"], onetrust_cookie_categories=["C0004"]
    )
    message = {**track("Spam"), "context": {"consentManagement": {"deniedConsentIds": ["C0004"]}}}
    assert filter_reason(message, both) == 'Filtered by event filtering: "Spam" is in the denylist'
    assert filter_reason(track("Fine"), both) is None
    assert filter_reason(track("Fine"), destination(enabled=False)).startswith("Filtered: the destination")


def test_the_integrations_object_is_checked_again_with_the_destinations_current_name():
    named = destination()
    named.name = "Marketing workspace"
    message = {**track("Order"), "integrations": {"All": True, "Marketing Workspace": False}}
    assert filter_reason(message, named) == (
        'Filtered by the event\'s integrations object: "Marketing Workspace" is false'
    )
    assert filter_reason({**track("Order"), "integrations": {"Customer.io": True}}, named) is None

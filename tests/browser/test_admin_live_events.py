"""A source's live events in the real admin, in headless Chromium, at a desktop's size and a phone's.

Given the running system, a person opens the live view of a source that feeds no destination; events
and a refused request sent over HTTP appear without a reload, the pause holds new ones back until
resumed, and the payload opens on request.
"""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import NARROW, SCREENSHOTS, WIDE, Stack, log_in
from tests.support.factories import make_source

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

NO_DESTINATION = "This source feeds no destination: events are stored but sent nowhere."
# The page polls every 3 seconds: a new row is there within two polls.
ARRIVAL_MS = 10_000


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"live-{name}.png"), full_page=True)


def send(stack: Stack, write_key: str, body: dict, path: str = "/v1/track") -> requests.Response:
    return requests.post(f"{stack.url}{path}", json=body, auth=(write_key, ""), timeout=10)


def test_watch_a_source_receive_events_and_refusals_without_reloading(stack: Stack, admin_login, page):
    # Given a source that feeds no destination, and a person logged in at a desktop's size
    source = make_source("Website")
    page.set_viewport_size(WIDE)
    log_in(page, *admin_login)

    # When they open the sources list, it warns that the source's events go nowhere
    page.goto("/admin/destinations/source/")
    expect(page.locator("#result_list")).to_contain_text(NO_DESTINATION)
    expect(page.locator("#result_list")).to_contain_text("never")
    shot(page, "01-sources-list")

    # And from there they open its live events, which are live and empty
    page.get_by_role("link", name="Live events").click()
    expect(page.locator("h1")).to_have_text("Live events: Website")
    expect(page.locator("[data-state]")).to_contain_text("Live")
    expect(page.locator("[data-empty]")).to_be_visible()
    shot(page, "02-live-empty")

    # When an SDK sends events, one of them a batch, they appear newest first without a reload
    assert send(stack, source.write_key, {"userId": "ada", "event": "Order Completed"}).status_code == 200
    batch = {"batch": [{"type": "page", "anonymousId": "visitor-7", "name": "Pricing"}]}
    assert send(stack, source.write_key, batch, "/v1/batch").status_code == 200
    rows = page.locator("#live-events-table tbody tr:not(.live-detail)")
    expect(rows).to_have_count(2, timeout=ARRIVAL_MS)
    expect(rows.nth(0)).to_contain_text("Pricing")
    expect(rows.nth(1)).to_contain_text("Order Completed")
    expect(rows.nth(1)).to_contain_text("no destination")
    expect(rows.nth(1).get_by_role("link", name="ada")).to_have_attribute("href", "/admin/person/?q=ada")

    # And the payload opens on request
    rows.nth(1).get_by_role("button", name="Show payload").click()
    expect(page.locator("#live-events-table .live-detail pre")).to_contain_text('"event": "Order Completed"')
    shot(page, "03-live-events")

    # When a request is refused (no event name), its reason shows under Refused, counted
    assert send(stack, source.write_key, {"userId": "ada"}).status_code == 400
    refused_tab = page.get_by_role("tab", name="Refused")
    expect(refused_tab).to_contain_text("(1 in 24 h)", timeout=ARRIVAL_MS)
    refused_tab.click()
    examples = page.locator("#live-refused-table tbody tr:not(.live-detail)")
    expect(examples).to_have_count(1)
    expect(examples.first).to_contain_text("event: track requires a string event name")
    expect(examples.first).to_contain_text("POST /v1/track")
    expect(page.locator("#live-refusal-counts")).to_contain_text("invalid_request")
    examples.first.get_by_role("button", name="Show body").click()
    expect(page.locator("#live-refused-table .live-detail pre")).to_contain_text('"userId": "ada"')
    assert source.write_key not in page.content()
    shot(page, "04-live-refused")

    # When they pause, a new event is held back until they resume
    page.get_by_role("tab", name="Events").click()
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("[data-state]")).to_contain_text("Paused")
    assert send(stack, source.write_key, {"userId": "grace", "event": "Signed Up"}).status_code == 200
    page.wait_for_timeout(7_000)
    expect(rows).to_have_count(2)
    shot(page, "05-live-paused")
    page.get_by_role("button", name="Resume").click()
    expect(rows).to_have_count(3, timeout=ARRIVAL_MS)
    expect(rows.nth(0)).to_contain_text("Signed Up")

    # And on a phone the same view reads as one card per event
    page.set_viewport_size(NARROW)
    expect(rows.nth(0)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    shot(page, "06-live-phone")
    page.get_by_role("tab", name="Refused").click()
    shot(page, "07-live-refused-phone")

    # And the source's page says when the last event came and warns too
    page.set_viewport_size(WIDE)
    page.goto(f"/admin/destinations/source/{source.pk}/change/")
    expect(page.get_by_role("alert")).to_contain_text(NO_DESTINATION)
    expect(page.locator(".field-last_event")).to_contain_text(" UTC")
    expect(page.locator(".field-refused_panel")).to_contain_text("invalid_request")
    shot(page, "08-source-page")

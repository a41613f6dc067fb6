"""Finding a delivery, and pages that fit, in the real admin in headless Chromium.

At 1440x900 with the admin's sidebar open: the log and the destinations list fit their box (measured in
the page, not only screenshotted), a search by prefix says what it matched, the person cell leads to
the person's page, the Received header sorts, a dashboard's link shows its window in the filter
sidebar, and the event tester takes a delivery id. At 390x844: a delivery's page does not scroll
sideways and the dashboard's hour labels do not overlap.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from destinations.models import Destination
from tests.browser.conftest import NARROW, SCREENSHOTS, WIDE, Stack, log_in
from tests.support.factories import make_attempt, make_delivery, make_destination, message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

LONG_PERSON = "jane-42-with-a-rather-long-identifier@example-company.com"
# Whether anything inside `selector` is wider than its box, and the document wider than the window.
OVERFLOW = """(selector) => {
  const box = document.querySelector(selector);
  const doc = document.documentElement;
  return {box: [box.scrollWidth, box.clientWidth], page: [doc.scrollWidth, doc.clientWidth]};
}"""
# For each chart, the text extents of the axis labels a person can see, left to right.
AXIS_LABELS = """() => [...document.querySelectorAll('.relay-axis')].map(axis => [...axis.children]
  .filter(span => getComputedStyle(span).visibility !== 'hidden' && span.textContent.trim())
  .map(span => { const range = document.createRange(); range.selectNodeContents(span);
                 const box = range.getBoundingClientRect(); return [box.left, box.right]; }))"""


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"find-fit-{name}.png"), full_page=True)


def assert_fits(page, selector: str) -> None:
    measured = page.evaluate(OVERFLOW, selector)
    assert measured["box"][0] <= measured["box"][1], (selector, measured)
    assert measured["page"][0] <= measured["page"][1], (selector, measured)


def seed() -> tuple[Destination, list]:
    """A destination with a long name, a rejected key and a long last error, and deliveries of people
    with long ids and events with long names, some failed and replayed, over the last hours."""
    destination = make_destination(name="Customer.io production workspace (United States)")
    now = timezone.now()
    Destination.objects.filter(pk=destination.pk).update(
        credentials_rejected_at=now,
        last_delivered_at=now - timedelta(minutes=5),
        last_error="Customer.io answered 401: Unauthorized request, check the site id and API key (ws 7)",
        last_error_at=now,
    )
    people = [LONG_PERSON, "jane-43", "bob"]
    deliveries = []
    for number in range(12):
        delivery = make_delivery(
            destination,
            message(user_id=people[number % 3], event="Checkout Step Completed With Coupon Applied"),
            received=now - timedelta(minutes=50 * (12 - number)),
            status=["delivered", "failed", "filtered"][number % 3],
            attempt_count=3,
            last_status_code=400,
            replay_count=number % 2,
            replayed_at=now if number % 2 else None,
        )
        deliveries.append(delivery)
    make_attempt(deliveries[-1], status_code=400, outcome="abort", response_body="x" * 300)
    return destination, deliveries


def test_find_a_delivery_and_every_page_fits(stack: Stack, admin_login, page):
    destination, deliveries = seed()
    log_in(page, *admin_login)

    # At 1440x900, with the admin's sidebar open
    page.set_viewport_size(WIDE)
    page.goto("/admin/delivery/delivery/")
    expect(page.locator("#nav-sidebar")).to_be_visible()
    # The log's table fits, Received and Replayed included
    assert_fits(page, "#changelist .results")
    right = page.locator("#changelist .results").bounding_box()
    for column in ("received", "replayed"):
        header = page.locator(f"#result_list th.column-{column}").bounding_box()
        assert header["x"] + header["width"] <= right["x"] + right["width"] + 1, column
    shot(page, "1440-log")

    # A prefix finds the person's deliveries and the page says what it matched
    page.fill("#searchbar", "jane")
    page.click("#changelist-search input[type=submit]")
    expect(page.locator("#delivery-search-said")).to_have_text(
        "8 deliveries whose person starts with \u201cjane\u201d."
    )
    assert_fits(page, "#changelist .results")
    shot(page, "1440-log-search")

    # Nothing found says what was searched and offers the person page
    page.fill("#searchbar", "zed")
    page.click("#changelist-search input[type=submit]")
    expect(page.locator("#delivery-search-said")).to_contain_text("No delivery whose person starts with")
    expect(page.locator("#delivery-search-said a", has_text="the person page")).to_be_visible()

    # The Received header sorts oldest first, and back
    page.goto("/admin/delivery/delivery/")
    page.locator("#result_list th.column-received a").first.click()
    expect(page.locator("#result_list tbody tr").first.locator("th a")).to_have_text(str(deliveries[0].pk))
    page.locator("#result_list th.column-received a.toggle").click()
    expect(page.locator("#result_list tbody tr").first.locator("th a")).to_have_text(str(deliveries[-1].pk))

    # The person cell leads to the person's page
    page.locator("#result_list td.field-person_link a", has_text=LONG_PERSON).first.click()
    expect(page.locator("h1")).to_have_text(f"Person: {LONG_PERSON}")
    shot(page, "1440-person")

    # The destinations list shows Last error and Activity whole
    page.goto("/admin/destinations/destination/")
    assert_fits(page, "#changelist .results")
    expect(page.locator("#result_list td.field-activity_links a", has_text="Dashboard")).to_be_visible()
    shot(page, "1440-destinations")

    # A dashboard's link filters a window, and the filter sidebar shows that window, not "All"
    page.goto(f"/admin/dashboard/{destination.pk}/")
    page.locator(".relay-legend a").first.click()
    received = page.locator("#changelist-filter details[data-filter-title=received] li.selected")
    expect(received).to_have_count(1)
    expect(received).to_contain_text("from ")
    expect(received).to_contain_text(" UTC to ")
    shot(page, "1440-log-dashboard-window")

    # A custom range with a bad bound says which field is wrong, and the page still lists
    page.fill("#delivery-range-created_at__gte", "yesterday")
    page.click("#delivery-range input[type=submit]")
    error = page.locator(".messagelist .error")
    expect(error).to_contain_text("Received from: \u201cyesterday\u201d is not a date")
    expect(page.locator("#result_list")).to_be_visible()
    shot(page, "1440-log-bad-range")

    # The event tester takes the delivery id the log shows, and gives one verdict
    page.goto(f"/admin/tools/event-tester/?event={deliveries[0].pk}&destination={destination.pk}")
    expect(page.locator("#tester-stored")).to_contain_text(f"delivery {deliveries[0].pk} (event ")
    expect(page.locator("#tester-verdict")).to_contain_text("Would be sent as 1 request")
    shot(page, "1440-event-tester")

    # At 390x844, a delivery's page does not scroll sideways
    page.set_viewport_size(NARROW)
    page.goto(f"/admin/delivery/delivery/{deliveries[-1].pk}/change/")
    expect(page.locator("#delivery-attempts")).to_be_visible()
    assert_fits(page, "body")
    shot(page, "390-delivery")

    # And the dashboard's hour labels do not overlap
    page.goto(f"/admin/dashboard/{destination.pk}/")
    assert_fits(page, "body")
    hours, days = page.evaluate(AXIS_LABELS)
    assert (len(hours), len(days)) == (6, 7)  # every fourth of the 24 hours, and the 7 days
    for labels in (hours, days):
        for (_, right_edge), (left_edge, _) in itertools.pairwise(labels):
            assert right_edge <= left_edge, labels
    shot(page, "390-dashboard")

"""Honest replay in the real admin, in headless Chromium at 1440x900 and 390 wide.

Given the running system and a fake Customer.io that answers ann's identify 401 once, ann's identify
fails and her later "Signed Up" is delivered. A support person replays the identify from its page, is
warned that the later one was delivered already, replays both in order, and reads the delivery's whole
history. Then the dashboard groups the day's failures by reason and replays one group.
"""

from __future__ import annotations

import pytest
import requests
from django.utils import timezone

from delivery.models import Delivery
from tests.browser.conftest import NARROW, SCREENSHOTS, WIDE, Stack
from tests.support.factories import make_delivery, make_destination, message
from tests.support.processes import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

REFUSED_EVENT = "Refund Requested"


def shot(page, name: str) -> None:
    """The step at 1440x900, then at 390 wide, each saved whole."""
    for size, suffix in ((WIDE, "1440"), (NARROW, "390")):
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENSHOTS / f"replay-{name}-{suffix}.png"), full_page=True)
    page.set_viewport_size(WIDE)


def statuses() -> dict[str, str]:
    return {f"{d.person} {d.event_name or d.message_type}": d.status for d in Delivery.objects.all()}


def test_replay_warns_of_order_keeps_it_and_the_page_and_dashboard_tell_it(stack: Stack, admin_login, page):
    # Given ann's identify, which Customer.io answers 401 once, and her later "Signed Up", delivered;
    # and two refunds Customer.io refuses, and one event the transformer refused
    stack.fake.answer(
        401, body={"meta": {"error": "Unauthorized"}}, match=lambda r: r.method == "PUT", times=1
    )
    refusal = stack.fake.answer(400, match=lambda r: REFUSED_EVENT in r.raw_body.decode(errors="replace"))
    destination = make_destination(name="Customer.io production")
    write_key = destination.sources.get().write_key
    batch = [
        {"type": "identify", "userId": "ann", "traits": {"plan": "pro"}},
        {"type": "track", "userId": "ann", "event": "Signed Up"},
        {"type": "track", "userId": "bob", "event": REFUSED_EVENT},
        {"type": "track", "userId": "cy", "event": REFUSED_EVENT},
    ]
    answer = requests.post(f"{stack.url}/v1/batch", json={"batch": batch}, auth=(write_key, ""), timeout=10)
    assert answer.status_code == 200, answer.text
    make_delivery(
        destination,
        message(user_id="dee", event="Viewed"),
        status="failed",
        reason="Instrumentation error: properties must be a JSON object",
        finished_at=timezone.now(),
    )
    wait_until(
        lambda: sum(status not in Delivery.OPEN for status in statuses().values()) == 5,
        timeout=60,
        message=f"deliveries did not finish: {statuses()}",
    )
    assert statuses()["ann identify"] == "failed" and statuses()["ann Signed Up"] == "delivered"
    identify = Delivery.objects.get(person="ann", message_type="identify")
    sent_before = len(stack.fake.requests())

    # When the support person replays the identify from its page
    page.set_viewport_size(WIDE)
    page.goto("/admin/")
    page.fill("#id_username", admin_login[0])
    page.fill("#id_password", admin_login[1])
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    page.goto(f"/admin/delivery/delivery/{identify.pk}/change/")
    page.click("input[type=submit][value='Replay this delivery']")

    # Then they are warned that ann's later "Signed Up" was delivered already, and offered both in order
    warning = page.locator("#replay-order-warning")
    warning.wait_for()
    assert "1 later delivery of the same person to the same destination was already delivered" in (
        warning.inner_text()
    )
    assert "track “Signed Up” of ann" in warning.inner_text()
    shot(page, "01-order-warning")

    # When they replay it with the later one
    page.click("#replay-with-later")
    page.wait_for_selector(".messagelist")
    assert "1 of them was a later delivery of the same person" in page.inner_text(".messagelist")
    wait_until(
        lambda: statuses()["ann identify"] == statuses()["ann Signed Up"] == "delivered",
        timeout=30,
        message=f"the replays were not delivered: {statuses()}",
    )
    # Then Customer.io received the identify again, and then the "Signed Up", in that order
    again = [request for request in stack.fake.requests()[sent_before:] if "/customers/ann" in request.path]
    assert [request.method for request in again] == ["PUT", "POST"]

    # And the identify's page counts both runs and lists the 401, the replay and the 200 in order
    page.reload()
    summary = page.inner_text("#delivery-attempt-count")
    assert summary.startswith("2 in all runs, 1 since the last replay, last answer 200"), summary
    attempts = page.inner_text("#delivery-attempts tbody")
    assert attempts.index("401") < attempts.index("Replayed by support") < attempts.index("200")
    shot(page, "02-delivery-after-replay")

    # When they open the destination's dashboard, the day's failures are grouped by reason
    stack.fake._rules.remove(refusal)
    page.goto(f"/admin/dashboard/{destination.pk}/")
    groups = page.locator("#error-groups")
    groups.wait_for()
    text = groups.inner_text()
    assert "Customer.io answered 400" in text and "Instrumentation error" in text
    assert "Not replayable: the event itself is wrong" in text
    shot(page, "03-dashboard-error-groups")
    # (at 390 wide the groups' table fits its box: long reasons wrap rather than push it sideways)
    page.set_viewport_size(NARROW)
    assert page.evaluate("(el) => el.scrollWidth <= el.clientWidth + 1", groups.element_handle())
    page.set_viewport_size(WIDE)

    # And "Replay these" on the refusals asks, then replays both
    groups.locator("tr", has_text="Customer.io answered 400").get_by_role("button").click()
    page.wait_for_selector("#replay-what")
    assert "holds 2 failed deliveries" in page.inner_text("#replay-what")
    shot(page, "04-group-replay-confirmation")
    page.click("input[type=submit][value='Replay 2 deliveries']")
    page.wait_for_selector(".messagelist")
    assert "2 deliveries replayed" in page.inner_text(".messagelist")
    wait_until(
        lambda: Delivery.objects.filter(event_name=REFUSED_EVENT, status="delivered").count() == 2,
        timeout=30,
        message=f"the group's replays were not delivered: {statuses()}",
    )

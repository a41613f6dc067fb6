"""Every button of the admin says what it does, in real Chromium (issue 17, item 12).

A screen reader lists a page's buttons by name: seven buttons all called "Copy" cannot be told apart.
On each admin page, every button (and everything with role=button) has a name, and no two share one;
on a source's page, the write key's Show button becomes Hide and back. At 1440x900 and 390x844.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from playwright.sync_api import expect

from delivery.admin import send_for_real
from delivery.models import Delivery
from destinations.snippets import snippets
from tests.browser.conftest import NARROW, SCREENSHOTS, WIDE, Stack, log_in
from tests.support.factories import make_delivery, make_destination, make_source, track

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# A line of Playwright's ARIA snapshot for an element of a role: `- button "Its name"`, or `- link` with none.
ROLE_LINE = r'^\s*- {role}(?: "(?P<name>(?:[^"\\]|\\.)*)")?(?=[\s:\[]|$)'
QUOTED_ITEM = re.compile(r"^\s*- '(?P<item>(?:[^']|'')*)'")


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"buttons-{name}.png"), full_page=True)


def accessible_names(page, role: str) -> list[str]:
    """The accessible name of every element of `role` on the page (a <button> and role=button alike),
    as Chromium computes it; hidden ones, which a screen reader does not list either, left out."""
    line_of_role = re.compile(ROLE_LINE.format(role=role))
    names = []
    for line in page.locator("body").aria_snapshot().splitlines():
        # YAML single-quotes an item holding ": " or the like: `- 'button "Toggle (theme: auto)"': its text`
        quoted = QUOTED_ITEM.match(line)
        if quoted:
            line = "- " + quoted.group("item").replace("''", "'")
        found = line_of_role.match(line)
        if found:
            names.append((found.group("name") or "").replace('\\"', '"'))
    return names


def assert_buttons_distinct(page, where: str) -> list[str]:
    """No button without a name or sharing one; no link without a name. (Links may share a name:
    Django's app list has an "Add" per model, described by the model's name, as filters have "Yes".)"""
    names = accessible_names(page, "button")
    assert "" not in names, f"{where}: a button without a name, among {names}"
    assert "" not in accessible_names(page, "link"), f"{where}: a link without a name"
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    assert repeated == [], f"{where}: buttons sharing a name: {repeated}"
    return names


def admin_pages(source, destination, delivery) -> dict[str, str]:
    return {
        "home": "/admin/",
        "sources": "/admin/destinations/source/",
        "source": f"/admin/destinations/source/{source.pk}/change/",
        "source-add": "/admin/destinations/source/add/",
        "rotate-write-key": f"/admin/destinations/source/{source.pk}/rotate-write-key/",
        "destinations": "/admin/destinations/destination/",
        "destination": f"/admin/destinations/destination/{destination.pk}/change/",
        "destination-add": "/admin/destinations/destination/add/",
        "log": "/admin/delivery/delivery/",
        "delivery": f"/admin/delivery/delivery/{delivery.pk}/change/",
        "dashboards": "/admin/dashboard/",
        "dashboard": f"/admin/dashboard/{destination.pk}/",
        "event-tester": f"/admin/tools/event-tester/?destination={destination.pk}",
        "person": "/admin/person/?q=ann",
        "warehouse-sources": "/admin/warehouse/warehousesource/",
        "warehouse-source-add": "/admin/warehouse/warehousesource/add/",
        "users": "/admin/auth/user/",
        "password-change": "/admin/password_change/",
    }


def test_every_button_has_a_name_of_its_own_and_show_turns_into_hide(stack: Stack, admin_login, page):
    # Given a source feeding a destination, one failed delivery, and the event tester's own source
    source = make_source("Website")
    destination = make_destination(source, name="Customer.io production")
    delivery = make_delivery(destination, track("ann", "Order Completed"), status=Delivery.Status.FAILED)
    send_for_real.tester_source()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.set_viewport_size(WIDE)
    log_in(page, *admin_login)

    # When a support person opens the source's page at 1440x900
    page.goto(f"/admin/destinations/source/{source.pk}/change/")
    # Then each button says what it acts on: the write key, and each SDK's snippet by name
    names = assert_buttons_distinct(page, "source page")
    titles = {snippet.slug: snippet.title for snippet in snippets("key", "http://relay")}
    copy_snippets = [f"Copy the {title} snippet" for title in titles.values()]
    assert {"Copy write key", "Show write key", *copy_snippets} <= set(names)
    shot(page, "01-source-1440")

    # When they press Show write key, then the key and the snippets show it, and the button says Hide
    masked = page.inner_text("code[data-write-key]")
    assert "…" in masked
    page.get_by_role("button", name="Show write key").click()
    hide = page.get_by_role("button", name="Hide write key")
    expect(hide).to_be_visible()
    expect(page.locator("code[data-write-key]")).not_to_have_text(masked)
    write_key = page.inner_text("code[data-write-key]")
    assert write_key == source.write_key
    expect(page.locator('pre[data-snippet="python"]')).to_contain_text(write_key)
    assert_buttons_distinct(page, "source page, key shown")
    shot(page, "02-source-key-shown-1440")
    # And Hide puts the masked key back everywhere, and the button says Show again
    hide.click()
    expect(page.locator("code[data-write-key]")).to_have_text(masked)
    expect(page.locator('pre[data-snippet="python"]')).not_to_contain_text(write_key)
    expect(page.get_by_role("button", name="Show write key")).to_be_visible()

    # When they copy the Python snippet, then that button says Copied and the page's status says which
    page.get_by_role("button", name=f"Copy the {titles['python']} snippet").click()
    expect(page.locator('button[data-copy="python"]')).to_have_text("Copied")
    expect(page.get_by_role("status")).to_have_text(f"Copied: Copy the {titles['python']} snippet")

    # At 390x844 the same page keeps its names, and Show/Hide still toggles
    page.set_viewport_size(NARROW)
    page.reload()
    assert_buttons_distinct(page, "source page at 390")
    page.get_by_role("button", name="Show write key").click()
    expect(page.get_by_role("button", name="Hide write key")).to_be_visible()
    shot(page, "03-source-key-shown-390")
    page.set_viewport_size(WIDE)

    # When they add a destination, the source picker offers their source, not the event tester's
    page.goto("/admin/destinations/destination/add/")
    offered = page.locator("#id_sources_from option").all_inner_texts()
    assert offered == ["Website"]

    # And on every admin page, at both widths, no button lacks a name or shares one
    for width in (WIDE, NARROW):
        page.set_viewport_size(width)
        for name, url in admin_pages(source, destination, delivery).items():
            answer = page.goto(url)
            assert answer is not None and answer.status == 200, f"{name}: {url}"
            assert_buttons_distinct(page, f"{name} ({url}) at {width['width']}")
    shot(page, "04-password-change-390")

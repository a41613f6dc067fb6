"""A destination's dashboard groups its failures by reason: counts, examples, the log filtered to a group,
and "Replay these" through the same rules as the log's replay."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from delivery.admin.error_groups import normalise
from delivery.models import Delivery
from tests.support.factories import make_delivery, make_destination, message, reload

pytest_plugins = ["tests.admin.tools_fixtures"]
pytestmark = pytest.mark.django_db

GAVE_UP = "Gave up after {} attempts over {} h. Last: Customer.io answered 503"
REJECTED = "Customer.io answered 401 (check the site ID and API key)"
INSTRUMENTATION = "Instrumentation error: properties must be a JSON object"


def page_text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def fail(destination, reason: str, hours_ago: float = 1, person: str = "") -> Delivery:
    sent = message(user_id=person or f"p{Delivery.objects.count()}")
    received = timezone.now() - timedelta(hours=hours_ago)
    return make_delivery(destination, sent, received=received, status="failed", reason=reason)


def failures_of_a_day():
    destination = make_destination()
    gave_up = [fail(destination, GAVE_UP.format(n, f"3.{n}"), hours_ago=n) for n in (3, 4, 5)]
    rejected = [fail(destination, REJECTED) for _ in range(2)]
    wrong = fail(destination, INSTRUMENTATION)
    fail(destination, REJECTED, hours_ago=30)  # outside the window
    fail(make_destination(), REJECTED)  # another destination's
    return destination, gave_up, rejected, wrong


def test_reasons_that_differ_only_by_numbers_are_one_group_and_status_codes_stay():
    assert normalise(GAVE_UP.format(3, "3.1")) == normalise(GAVE_UP.format(12, "4.0"))
    assert (
        normalise(GAVE_UP.format(3, "3.1"))
        == "Gave up after # attempts over # h. Last: Customer.io answered 503"
    )
    assert normalise("Customer.io answered 400") != normalise("Customer.io answered 401")
    assert normalise("Could not reach Customer.io (host 10.0.0.7, port 5555)") == (
        "Could not reach Customer.io (host #, port #)"
    )


def test_the_dashboard_counts_failures_by_reason_with_examples_and_links(superuser_client):
    destination, gave_up, _rejected, _wrong = failures_of_a_day()
    response = superuser_client.get(reverse("admin:destination_dashboard", args=[destination.pk]))
    groups = response.context["error_groups"].groups
    # Then the window's failures are in three groups, the biggest first, each with its newest examples
    assert [(group.reason, group.count) for group in groups] == [
        ("Gave up after # attempts over # h. Last: Customer.io answered 503", 3),
        (REJECTED, 2),
        (INSTRUMENTATION, 1),
    ]
    assert [pk for pk, _ in groups[0].samples] == [delivery.pk for delivery in gave_up]
    page = page_text(response)
    assert "Failures by reason, last 24 hours" in page
    assert "Not replayable: the event itself is wrong" in page
    assert page.count("Replay these") == 2
    # And a group's count links to the log, filtered to exactly that group's failures
    log = superuser_client.get(groups[0].log_url)
    assert log.status_code == 200
    shown = {int(pk) for pk in re.findall(r'name="_selected_action" value="(\d+)"', log.content.decode())}
    assert shown == {delivery.pk for delivery in gave_up}


def test_replaying_a_group_asks_then_replays_its_failures_and_notes_it(superuser_client):
    destination, gave_up, rejected, _wrong = failures_of_a_day()
    url = reverse("admin:destination_error_group_replay", args=[destination.pk])
    group = normalise(gave_up[0].reason)
    # When "Replay these" is pressed, a confirmation counts the group first
    confirmation = superuser_client.post(url, {"group": group})
    assert confirmation.status_code == 200
    assert "holds 3 failed deliveries" in page_text(confirmation)
    assert all(reload(delivery).status == "failed" for delivery in gave_up)
    ids = re.findall(r'name="_selected_action" value="(\d+)"', confirmation.content.decode())
    # And confirmed, the group's failures are pending again, the others untouched
    done = superuser_client.post(url, {"group": group, "post": "yes", "_selected_action": ids}, follow=True)
    assert "3 deliveries replayed: they are pending again." in page_text(done)
    assert [reload(delivery).status for delivery in gave_up] == ["pending"] * 3
    assert [reload(delivery).status for delivery in rejected] == ["failed"] * 2
    entry = LogEntry.objects.get(object_id=str(gave_up[0].pk))
    assert entry.user.username == "ada"
    assert entry.get_change_message() == f"Replayed from the dashboard's error group “{group}”."


def test_an_instrumentation_group_cannot_be_replayed(superuser_client):
    destination, _, _, wrong = failures_of_a_day()
    url = reverse("admin:destination_error_group_replay", args=[destination.pk])
    confirmation = superuser_client.post(url, {"group": INSTRUMENTATION})
    assert "1 is left out: the event itself is wrong" in page_text(confirmation)
    assert "Nothing to replay" in page_text(confirmation)
    assert reload(wrong).status == "failed"


def test_a_viewer_sees_the_groups_but_cannot_replay_them(viewer_client):
    destination, gave_up, _, _ = failures_of_a_day()
    response = viewer_client.get(reverse("admin:destination_dashboard", args=[destination.pk]))
    assert "Failures by reason" in page_text(response) and "Replay these" not in page_text(response)
    url = reverse("admin:destination_error_group_replay", args=[destination.pk])
    ids = [str(delivery.pk) for delivery in gave_up]
    response = viewer_client.post(
        url, {"group": normalise(gave_up[0].reason), "post": "yes", "_selected_action": ids}
    )
    assert response.status_code == 403
    assert reload(gave_up[0]).status == "failed"


def test_the_groups_read_a_bounded_number_of_failures_and_say_so(superuser_client, monkeypatch):
    monkeypatch.setattr("delivery.admin.error_groups.FAILURES_READ", 2)
    destination, *_ = failures_of_a_day()
    response = superuser_client.get(reverse("admin:destination_dashboard", args=[destination.pk]))
    assert sum(group.count for group in response.context["error_groups"].groups) == 2
    assert "Counted over the newest 2 failures of the window: there are more." in page_text(response)

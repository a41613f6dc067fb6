"""Times in the admin: one exact form to the second, in the admin's time zone with the zone named, on
every page; relative ages only beside an exact time."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cio_project.times import exact_time, time_ago
from destinations.models import Destination
from tests.admin.log_fixtures import LOG_URL, ago
from tests.support.factories import make_attempt, make_delivery, make_destination, message

pytest_plugins = ["tests.admin.tools_fixtures"]
pytestmark = pytest.mark.django_db

EXACT = re.compile(r"\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z]{3,5}\b")
# Django's default forms and the timesince filter's, which the admin must not show any more.
OTHER_FORMS = re.compile(
    r"\b(a\.m\.|p\.m\.|noon|midnight|\d+ minutes? ago|\d+\xa0minutes?)|(?<![:\d])\d\d:\d\d(?![:\d])"
)


def page_text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_an_exact_time_is_to_the_second_with_the_zone_in_the_admins_time_zone(settings):
    moment = datetime(2026, 12, 1, 6, 35, 12, 900_000, tzinfo=UTC)
    assert exact_time(moment) == "2026-12-01 06:35:12 UTC"
    settings.TIME_ZONE = "Europe/Paris"
    assert exact_time(moment) == "2026-12-01 07:35:12 CET"
    assert exact_time(None) == "-"


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (0, "0 s ago"),
        (3, "3 s ago"),
        (59, "59 s ago"),
        (61, "1 min ago"),
        (7500, "2 h ago"),
        (-130, "in 2 min"),
    ],
)
def test_an_age_is_in_its_largest_whole_unit(seconds, said):
    now = datetime(2026, 12, 1, 6, 35, 12, tzinfo=UTC)
    assert time_ago(now - timedelta(seconds=seconds), now) == said


def test_every_admin_page_writes_times_the_same_way(superuser_client):
    # Given a delivery that failed after two attempts a second apart, was replayed, and whose destination
    # had its credentials rejected
    destination = make_destination(name="Times")
    delivery = make_delivery(
        destination,
        message(user_id="ann"),
        received=ago(minutes=5),
        status="failed",
        attempt_count=2,
        first_attempt_at=ago(minutes=4),
        last_attempt_at=ago(minutes=3),
        replay_count=1,
        replayed_at=ago(minutes=2),
    )
    first = make_attempt(delivery, status_code=503, outcome="retry", started_at=ago(minutes=4, seconds=1))
    second = make_attempt(delivery, status_code=401, outcome="abort", started_at=ago(minutes=4))
    now = timezone.now()
    Destination.objects.filter(pk=destination.pk).update(
        credentials_rejected_at=now, last_delivered_at=ago(hours=1), last_error="401", last_error_at=now
    )
    pages = {
        "log": LOG_URL,
        "delivery": reverse("admin:delivery_delivery_change", args=[delivery.pk]),
        "dashboard": reverse("admin:destination_dashboard", args=[destination.pk]),
        "dashboards": reverse("admin:dashboards"),
        "person": reverse("admin:person") + "?q=ann",
        "destinations": reverse("admin:destinations_destination_changelist"),
        "destination": reverse("admin:destinations_destination_change", args=[destination.pk]),
        "sources": reverse("admin:destinations_source_changelist"),
    }
    for name, url in pages.items():
        # When each page is opened
        response = superuser_client.get(url)
        assert response.status_code == 200, name
        text = page_text(response)
        # Then it shows times in the one exact form, and none in another
        assert EXACT.search(text), name
        assert not OTHER_FORMS.search(text), (name, OTHER_FORMS.search(text))
    # And the two attempts, a second apart, are told apart on the delivery's page
    text = page_text(superuser_client.get(pages["delivery"]))
    assert exact_time(first.started_at) in text and exact_time(second.started_at) in text
    assert exact_time(first.started_at) != exact_time(second.started_at)
    # And an age is shown beside its exact time
    assert f"{exact_time(delivery.created_at)} (5 min ago)" in text

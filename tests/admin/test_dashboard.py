"""The dashboards: a destination's deliveries over time, backlog and health; every destination at once."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from cio_project.times import exact_time
from delivery.admin.activity import activity
from tests.support.factories import make_deliveries, make_destination, secret_forms

pytest_plugins = ["tests.admin.tools_fixtures"]
pytestmark = pytest.mark.django_db


def dashboard(client, destination_id: int):
    return client.get(reverse("admin:destination_dashboard", args=[destination_id]))


def page_text(response) -> str:
    """The page's text as a reader sees it: no tags, entities decoded, runs of white space as one."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def hour_of(moment):
    return timezone.localtime(moment).replace(minute=0, second=0, microsecond=0)


def test_deliveries_are_counted_per_hour_and_per_day_by_status(superuser_client):
    # Given deliveries received at known times: 2 hours ago, 30 hours ago, 5 days ago and 8 days ago
    destination = make_destination()
    now = timezone.now()
    two_hours_ago, yesterday, five_days_ago = (
        now - timedelta(hours=2),
        now - timedelta(hours=30),
        now - timedelta(days=5),
    )
    make_deliveries(destination, "delivered", two_hours_ago, count=3)
    make_deliveries(destination, "failed", two_hours_ago)
    make_deliveries(destination, "filtered", yesterday, count=2)
    make_deliveries(destination, "retrying", five_days_ago)
    make_deliveries(destination, "delivered", now - timedelta(days=8))
    # And another destination's, which never count here
    make_deliveries(make_destination(), "failed", two_hours_ago, count=5)
    # When a person opens its dashboard
    response = dashboard(superuser_client, destination.pk)
    assert response.status_code == 200
    hourly, daily = response.context["charts"]
    # Then the hourly chart has 24 bars, the one two hours back holding 3 delivered and 1 failed
    assert len(hourly.columns) == 24
    bars = {column.label: {cell.status: cell.count for cell in column.cells} for column in hourly.columns}
    two_hours_bar = hourly.columns[-3]
    assert timezone.localtime(two_hours_ago).strftime("%H:00") in two_hours_bar.label
    assert bars[two_hours_bar.label] == {
        "delivered": 3,
        "filtered": 0,
        "failed": 1,
        "retrying": 0,
        "pending": 0,
    }
    assert sum(column.total for column in hourly.columns) == 4
    # And the daily chart has 7 bars, with the older deliveries on their days and the 8-day-old one left out
    assert len(daily.columns) == 7
    by_day = {column.label: column.total for column in daily.columns}
    assert sum(by_day.values()) == 7
    assert daily.columns[-1 - 5].total == 1  # five days ago: the retrying one
    # And a reader sees the numbers: each bar segment is titled, and the 24-hour totals and error rate shown
    page = response.content.decode()
    assert f'title="{html.escape(two_hours_bar.label)}: 3 delivered"' in page
    assert f'title="{html.escape(two_hours_bar.label)}: 1 failed"' in page
    text = page_text(response)
    assert "Error rate, last 24 hours 25.0%" in text
    assert "Delivered 3" in text and "Failed 1" in text


def test_bars_and_numbers_link_to_the_filtered_log(superuser_client):
    destination = make_destination()
    failed = make_deliveries(destination, "failed", timezone.now() - timedelta(minutes=1))
    page = dashboard(superuser_client, destination.pk).content.decode()
    # The standard admin list-filter query strings of the delivery log
    assert (
        f'href="/admin/delivery/delivery/?destination__id__exact={destination.pk}&amp;status__exact=failed'
        in page
    )
    assert f'href="/admin/delivery/delivery/?destination__id__exact={destination.pk}"' in page
    bar = re.search(r'<a class="relay-failed"[^>]* href="([^"]+)"', page)
    link = html.unescape(bar.group(1))
    assert link.startswith(
        f"/admin/delivery/delivery/?destination__id__exact={destination.pk}&status__exact=failed"
    )
    assert "created_at__gte=" in link and "created_at__lt=" in link
    # and following the bar lists that hour's failed deliveries, not the others
    earlier = make_deliveries(destination, "failed", timezone.now() - timedelta(hours=5))
    listed = superuser_client.get(link)
    assert listed.status_code == 200  # the admin redirects a lookup it refuses to ?e=1
    shown = {row.pk for row in listed.context["cl"].result_list}
    assert shown == {recent.pk for recent in failed}
    assert not shown & {row.pk for row in earlier}


def test_the_backlog_and_the_oldest_open_delivery(superuser_client):
    # Given two pending deliveries, the older received 3 hours ago, and one retrying
    destination = make_destination()
    now = timezone.now()
    make_deliveries(destination, "pending", now - timedelta(hours=3, minutes=5))
    make_deliveries(destination, "pending", now - timedelta(minutes=1))
    make_deliveries(destination, "retrying", now - timedelta(minutes=30))
    # When the dashboard is opened
    text = page_text(dashboard(superuser_client, destination.pk))
    # Then it shows the backlog and how old the oldest open delivery is
    assert "Backlog 2 pending 1 retrying" in text
    assert "Oldest open delivery 3 h ago received " in text


def test_a_banner_says_when_customerio_rejected_the_credentials(superuser_client):
    destination = make_destination()
    assert "rejected this destination's credentials" not in page_text(
        dashboard(superuser_client, destination.pk)
    )
    # Given Customer.io answered 401 and the engine recorded it
    type(destination).objects.filter(pk=destination.pk).update(
        credentials_rejected_at=timezone.now(),
        last_error="Customer.io answered 401: Unauthorized",
        last_error_at=timezone.now(),
    )
    response = dashboard(superuser_client, destination.pk)
    text = page_text(response)
    # Then a red banner says so, with the way out, and the last error is shown
    assert 'class="relay-banner" role="alert"' in response.content.decode()
    assert "Customer.io rejected this destination's credentials" in text
    assert "Customer.io answered 401: Unauthorized" in text
    for secret in secret_forms():
        assert secret not in response.content.decode()


def test_a_quiet_destination_says_so(superuser_client):
    destination = make_destination()
    text = page_text(dashboard(superuser_client, destination.pk))
    assert "Error rate, last 24 hours no deliveries finished" in text
    assert "Oldest open delivery none open" in text
    assert "Last delivered never" in text
    assert "Last error None recorded." in text


def test_an_unknown_destination_is_not_found(superuser_client):
    assert dashboard(superuser_client, 987654).status_code == 404


def test_the_dashboard_takes_a_bounded_number_of_queries(superuser_client, django_assert_max_num_queries):
    # Given a destination with many deliveries spread over the week
    destination = make_destination()
    now = timezone.now()
    for hours in range(0, 7 * 24, 5):
        make_deliveries(
            destination, ["delivered", "failed", "pending"][hours % 3], now - timedelta(hours=hours)
        )
    # When its dashboard and the overview are opened, the count of queries does not grow with the rows
    with django_assert_max_num_queries(8):
        assert dashboard(superuser_client, destination.pk).status_code == 200
    for _ in range(5):
        make_deliveries(make_destination(), "failed", now)
    with django_assert_max_num_queries(8):
        assert superuser_client.get(reverse("admin:dashboards")).status_code == 200


def test_the_overview_lists_every_destination_with_its_headline_numbers(superuser_client):
    # Given two destinations, one with deliveries and rejected credentials
    busy, quiet = make_destination(name="Busy"), make_destination(name="Quiet")
    now = timezone.now()
    make_deliveries(busy, "delivered", now - timedelta(hours=1), count=3)
    make_deliveries(busy, "failed", now - timedelta(hours=1))
    make_deliveries(busy, "pending", now - timedelta(minutes=10), count=2)
    type(busy).objects.filter(pk=busy.pk).update(credentials_rejected_at=now)
    # When the overview is opened
    response = superuser_client.get(reverse("admin:dashboards"))
    text = page_text(response)
    # Then each destination is a row linking to its dashboard, with its numbers
    page = response.content.decode()
    assert f'href="{reverse("admin:destination_dashboard", args=[busy.pk])}"' in page
    assert f'href="{reverse("admin:destination_dashboard", args=[quiet.pk])}"' in page
    oldest = exact_time(now - timedelta(minutes=10))
    assert f"Busy Credentials rejected 3 0 1 0 2 25.0% 2 {oldest} (10 min ago)" in text
    assert "Quiet 0 0 0 0 0 no deliveries finished 0 \N{EN DASH} never" in text


def test_hours_and_days_follow_the_local_time_zone(settings):
    # Given a time zone half an hour off UTC, where local hours start at :30 UTC
    settings.TIME_ZONE = "Asia/Kolkata"
    destination = make_destination()
    now = timezone.now()
    local_hour = hour_of(now - timedelta(hours=3))
    # And deliveries at the first and last minute of one local hour, and one just before it
    make_deliveries(destination, "delivered", local_hour + timedelta(minutes=1))
    make_deliveries(destination, "delivered", local_hour + timedelta(minutes=59))
    make_deliveries(destination, "failed", local_hour - timedelta(minutes=1))
    # When the activity is counted
    counted = activity(destination.pk, now)
    # Then that local hour holds the two, and the hour before it the other
    starts = [bucket.start for bucket in counted.hours]
    index = starts.index(local_hour)
    assert counted.hours[index].counts == {"delivered": 2}
    assert counted.hours[index - 1].counts == {"failed": 1}
    # And days are local days
    today = timezone.localdate(now)
    assert counted.days[-1].start == timezone.make_aware(
        timezone.datetime.combine(today, timezone.datetime.min.time())
    )


def test_the_dashboards_need_view_permissions(client, viewer_client):
    destination = make_destination()
    assert dashboard(viewer_client, destination.pk).status_code == 200
    client.force_login(User.objects.create_user("sam", "sam@example.com", "x", is_staff=True))
    assert dashboard(client, destination.pk).status_code == 403
    assert client.get(reverse("admin:dashboards")).status_code == 403
